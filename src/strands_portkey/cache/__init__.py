"""Response caching: keys, the stored form of a response, and stores (see ``pipeline/cache.py``)."""
