"""Command registration (placeholder until the command lands: registers nothing)."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-command to the `provenance` parser."""
    del commands
