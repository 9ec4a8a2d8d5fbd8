"""Seed 000's complete example, verbatim apart from the import and the client construction.

``from strongly import Strongly`` / ``client = Strongly()`` become ``from strands_portkey import
Client`` / ``client = Client()`` (the base URL and key come from ``STRANDS_PORTKEY_BASE_URL`` and
``STRANDS_PORTKEY_API_KEY``). Run by tests/integ/test_seed000_example.py against a real server.
"""
# fmt: off

from strands_portkey import Client


def main():
    client = Client()

    # --- Model overview ---
    print("=== Model Overview ===")
    overview = client.ai.models.overview()
    print(f"Total: {overview.total}, Active: {overview.active}, Stopped: {overview.stopped}")

    # --- Register a third-party model ---
    print("\n=== Register Model ===")
    model = client.ai.models.create({
        "name": "Claude 3.5 Sonnet",
        "type": "third-party",
        "provider": "anthropic",
        "vendor_model_id": "claude-3-5-sonnet-20241022",
        "model_type": "chat",
        "description": "Anthropic's balanced model for complex tasks",
        "capabilities": ["chat", "function_calling", "vision"],
        "max_tokens": 8192,
        "context_window": 200000,
    })
    print(f"Created: {model.name} (ID: {model.id})")

    # --- Add a provider key ---
    print("\n=== Provider Key ===")
    key = client.ai.provider_keys.create({
        "name": "Anthropic Production Key",
        "provider": "anthropic",
        "api_key": "sk-ant-...",
        "description": "Production key for Claude models",
    })
    print(f"Key created: {key.name} ({key.masked_key})")

    # Test the key
    result = client.ai.provider_keys.test(key.id)
    print(f"Key valid: {result.success}")

    # --- List active models ---
    print("\n=== Active Models ===")
    for m in client.ai.models.list(status="active"):
        print(f" {m.name} ({m.provider}/{m.vendor_model_id})")

    # --- Check permissions ---
    print("\n=== Model Permissions ===")
    perms = client.ai.models.get_permissions(model.id)
    print(f"Owner: {perms.owner}, Shared: {perms.is_shared}")

    # Share with the organization
    client.ai.models.update_permissions(model.id, is_shared=True)
    print("Model shared with organization")

    # --- Usage analytics ---
    print("\n=== Usage Analytics ===")
    usage = client.ai.analytics.usage(
        start_date="2025-01-01",
        end_date="2025-01-31",
    )
    print(f"Requests: {usage.total_requests}, Tokens: {usage.total_tokens}")

    # --- Cost breakdown ---
    print("\n=== Cost Breakdown ===")
    costs = client.ai.analytics.costs(group_by="provider")
    print(f"Total cost: {costs.currency} {costs.total_cost:.2f}")

    # --- Performance ---
    print("\n=== Performance ===")
    perf = client.ai.analytics.performance()
    print(f"Avg latency: {perf.avg_latency_ms:.1f}ms, Error rate: {perf.error_rate:.2%}")

    # --- Cleanup ---
    print("\n=== Cleanup ===")
    client.ai.provider_keys.delete(key.id)
    client.ai.models.delete(model.id)
    print("Done")

if __name__ == "__main__":
    main()
