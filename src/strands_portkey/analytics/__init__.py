"""Analytics: every gateway request recorded (route, outcome, timings, tokens, cost) and queried.

- :mod:`~strands_portkey.analytics.record`: what the request path hands over (pure, no database).
- :mod:`~strands_portkey.analytics.sinks`: the bounded queue and background batch writer.
- :mod:`~strands_portkey.analytics.queries`: usage, costs, performance, time series, providers in SQL.
"""
