"""Items as bytes, for the Redis list between distributed crawl workers and the ingester.

JSON with base64 page bodies: readable with redis-cli, independent of Python
versions (no pickle), and tagged with a format version.
"""

from __future__ import annotations

import base64
import dataclasses
import json

from pipelines.records import ExtractedText, FetchedPage

from .items import ArticleItem, ArticleNotModified

FORMAT = 1


def _page_to_json(page: FetchedPage) -> dict:
    data = dataclasses.asdict(page)
    data["body"] = base64.b64encode(page.body).decode("ascii")
    return data


def _page_from_json(data: dict) -> FetchedPage:
    data = dict(data)
    data["body"] = base64.b64decode(data["body"])
    for name in ("headers", "request_headers"):
        data[name] = tuple(tuple(pair) for pair in data.get(name, ()))
    return FetchedPage(**data)


def _text_from_json(data: dict) -> ExtractedText:
    return ExtractedText(**{key: tuple(value) if isinstance(value, list) else value for key, value in data.items()})


def encode_item(item: ArticleItem | ArticleNotModified) -> bytes:
    if isinstance(item, ArticleNotModified):
        payload = {"format": FORMAT, "kind": "not_modified", **dataclasses.asdict(item)}
    else:
        payload = {
            "format": FORMAT, "kind": "article", "site": item.site, "category": item.category,
            "fetched_at": item.fetched_at, "fetch_id": item.fetch_id, "skipped": item.skipped,
            "pages": [_page_to_json(page) for page in item.pages],
            "texts": [dataclasses.asdict(text) for text in item.texts],
        }
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def decode_item(raw: bytes) -> ArticleItem | ArticleNotModified:
    payload = json.loads(raw)
    if payload.get("format") != FORMAT:
        raise ValueError(f"unknown item format {payload.get('format')!r}")
    if payload["kind"] == "not_modified":
        return ArticleNotModified(payload["site"], payload["url"], payload["fetched_at"])
    return ArticleItem(
        site=payload["site"], category=payload["category"],
        pages=[_page_from_json(page) for page in payload["pages"]],
        fetched_at=payload["fetched_at"], texts=[_text_from_json(text) for text in payload["texts"]],
        skipped=payload["skipped"], fetch_id=payload["fetch_id"],
    )
