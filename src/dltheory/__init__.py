"""dltheory: the shared library of *Theory You Can Run*.

Every notebook of the book calls this library instead of carrying its own code. Each public
function names, in its docstring, the section and equation of the book that it implements.
Importing the package is cheap: the names that need torch are loaded on first use, so that
command-line tools such as ``python -m dltheory.uci`` start quickly.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from dltheory.claims import Claim, ClaimError, claim

_LAZY = {
    "setup": "dltheory.notebook",
    "default_device": "dltheory.runtime",
    "seed_everything": "dltheory.runtime",
}

__all__ = ["Claim", "ClaimError", "__version__", "claim", "default_device", "seed_everything", "setup"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dltheory' has no attribute {name!r}")
