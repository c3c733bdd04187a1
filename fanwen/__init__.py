"""fanwen-archive: crawl, clean and archive Chinese sample-speech (范文) sites."""
