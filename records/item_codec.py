"""Items as bytes, for the Redis list between distributed crawl workers and the ingester.

JSON with base64 page bodies: readable with redis-cli, independent of Python
versions (no pickle), and tagged with a format version.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

from records.crawl_items import ArticleGone, ArticleItem, ArticleNotModified, PageRejected
from records.texts import CleaningReport, ExtractedText, FetchedPage, Removal

# Items that are plain records of strings and numbers, by their kind tag.
_RECORD_KINDS = {"not_modified": ArticleNotModified, "rejected": PageRejected, "gone": ArticleGone}

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
    fields: dict[str, Any] = {key: tuple(value) if isinstance(value, list) else value for key, value in data.items()}
    cleaning = fields.get("cleaning")
    if isinstance(cleaning, dict):
        fields["cleaning"] = CleaningReport(**{
            **cleaning,
            "removed": tuple(Removal(**removal) for removal in cleaning.get("removed", ())),
            "notes": tuple(cleaning.get("notes", ())),
        })
    return ExtractedText(**fields)


def _encodings_from_json(value) -> list[tuple[str | None, str]]:
    """Each page's (declared, used) encoding; none when malformed or absent (older workers):
    the archive writer then decodes the pages itself, so a bad list costs time, never a page."""
    if not isinstance(value, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], str) and isinstance(pair[0], (str, type(None)))
        for pair in value
    ):
        return []
    return [(declared, used) for declared, used in value]


def encode_item(item: ArticleItem | ArticleNotModified | PageRejected | ArticleGone) -> bytes:
    if not isinstance(item, ArticleItem):
        kind = next(kind for kind, cls in _RECORD_KINDS.items() if isinstance(item, cls))
        payload = {"format": FORMAT, "kind": kind, **dataclasses.asdict(item)}
    else:
        payload = {
            "format": FORMAT, "kind": "article", "site": item.site, "category": item.category,
            "fetched_at": item.fetched_at, "fetch_id": item.fetch_id, "skipped": item.skipped,
            "pages": [_page_to_json(page) for page in item.pages],
            "texts": [dataclasses.asdict(text) for text in item.texts],
            "encodings": [list(pair) for pair in item.encodings],
        }
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def decode_item(raw: bytes) -> ArticleItem | ArticleNotModified | PageRejected | ArticleGone:
    payload = json.loads(raw)
    if payload.get("format") != FORMAT:
        raise ValueError(f"unknown item format {payload.get('format')!r}")
    if payload["kind"] in _RECORD_KINDS:
        fields = {key: value for key, value in payload.items() if key not in ("format", "kind")}
        return _RECORD_KINDS[payload["kind"]](**fields)
    return ArticleItem(
        site=payload["site"], category=payload["category"],
        pages=[_page_from_json(page) for page in payload["pages"]],
        fetched_at=payload["fetched_at"], texts=[_text_from_json(text) for text in payload["texts"]],
        skipped=payload["skipped"], fetch_id=payload["fetch_id"],
        encodings=_encodings_from_json(payload.get("encodings", [])),
    )
