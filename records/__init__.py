"""Plain records shared by every layer: fetched pages, cleaned texts, cleaning reports, crawl items."""
