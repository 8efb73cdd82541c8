"""The operator's view: Prometheus metrics (metrics.py), the HTTP server beside the bot
with /healthz, /readyz and /metrics (server.py), and JSON log lines (logs.py). Never
imports discord: the bot hands in what the server asks (readiness, a database ping)."""
