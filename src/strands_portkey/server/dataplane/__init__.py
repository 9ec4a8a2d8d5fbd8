"""Data-plane routes: thin translations from a wire protocol to Gateway.chat / Gateway.stream."""
