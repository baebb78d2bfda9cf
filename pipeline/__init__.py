"""gzh: a Git-based docs-as-code publishing pipeline for a WeChat Official Account."""
from __future__ import annotations

__version__ = "0.1.0"
