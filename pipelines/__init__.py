"""Cleaning core and the thin Scrapy item pipelines over it.

The cleaning modules (``decoding``, ``rules``, ``html_blocks``, ``text_rules``,
``metadata``, ``extraction``) import nothing from Scrapy: bytes + URL + rules
in, documents out.  ``item_pipelines`` is the only Scrapy-facing module.
"""
