"""dltheory: the shared library of *Theory You Can Run*.

Every notebook of the book calls this library instead of carrying its own code. Each public
function names, in its docstring, the section and equation of the book that it implements.
"""

__version__ = "0.1.0"

from dltheory.claims import Claim, ClaimError, claim
from dltheory.notebook import setup
from dltheory.runtime import default_device, seed_everything

__all__ = [
    "Claim",
    "ClaimError",
    "__version__",
    "claim",
    "default_device",
    "seed_everything",
    "setup",
]
