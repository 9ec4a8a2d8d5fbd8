"""Provider adapters: pure translators between canonical types and each provider's HTTP API."""
