"""The gateway as an HTTP server: Portkey's, OpenAI's and Anthropic's wire protocols over one Gateway."""
