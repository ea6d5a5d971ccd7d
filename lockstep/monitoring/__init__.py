"""Telling the operator: /healthz (`health`) and the Prometheus /metrics (`metrics`, `views`)."""
