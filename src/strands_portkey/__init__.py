"""strands-agents-portkey: a Strands model provider with an in-process AI gateway."""

from .errors import GatewayError

__all__ = ["GatewayError"]
