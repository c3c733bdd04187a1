"""What ``fanwen serve`` passes to Datasette: metadata (and later plugins and templates)."""
