"""The archive: SQLite schema and writes, WARC captures, duplicate clusters, search index, writer process."""
