"""The Scrapy project: settings, the one profile-driven spider, and site profiles (data)."""
