# Metadata, including the "scrapy" entry point Scrapyd needs, lives in
# pyproject.toml.  This file exists because `scrapyd-deploy` builds the egg it
# uploads with `setup.py bdist_egg`.
from setuptools import setup

setup()
