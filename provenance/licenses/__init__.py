"""licenses (see docs/architecture.md)."""
