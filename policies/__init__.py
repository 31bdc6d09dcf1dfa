"""License catalog and organisation policies (data, shipped in the wheel)."""
