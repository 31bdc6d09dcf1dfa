"""Jinja2 templates (data, shipped in the wheel)."""
