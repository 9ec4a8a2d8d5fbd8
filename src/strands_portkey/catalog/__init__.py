"""The catalog: model rates (credits and USD), billing, LiteLLM price-map import, model discovery.

Imported only when used (SQLAlchemy loads with :mod:`~strands_portkey.catalog.rates`).
"""
