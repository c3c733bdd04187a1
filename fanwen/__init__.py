"""The ``fanwen`` command: crawl, schedule, serve, export, ingest, the demo, and the profile tools."""
