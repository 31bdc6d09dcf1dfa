"""lineage (see docs/architecture.md)."""
