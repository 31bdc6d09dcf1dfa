"""provenance: what a model really is, where it came from, and what its licenses oblige.

Library use without the CLI::

    import provenance
    report = provenance.scan("deepseek-ai/DeepSeek-R1-Distill-Llama-70B")

Heavy modules load on first use, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["ProvenanceError", "ScanReport", "__version__", "scan"]

if TYPE_CHECKING:
    from provenance.errors import ProvenanceError
    from provenance.scan import ScanReport, scan


def __getattr__(name: str) -> Any:
    if name in {"scan", "ScanReport"}:
        from provenance import scan as _scan  # noqa: PLC0415

        return getattr(_scan, name)
    if name == "ProvenanceError":
        from provenance.errors import ProvenanceError  # noqa: PLC0415

        return ProvenanceError
    raise AttributeError(name)
