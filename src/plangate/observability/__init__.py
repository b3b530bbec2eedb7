"""What operators see of a running plangate: Prometheus metrics and structured logs.

This package imports nothing else of plangate's, so every layer may record into it."""
