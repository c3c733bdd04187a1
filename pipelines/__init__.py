"""The cleaning core: page bytes, URL and extraction rules in, records out.

Pure functions over lxml trees (BeautifulSoup4 + html5lib when lxml's tree is suspect);
nothing here imports Scrapy, SQLite or Datasette.  The Scrapy item pipelines that call
it are in ``crawler.item_pipelines``.
"""
