"""Progress bars for long loops that stay quiet under CI (Preface, "Running the notebooks")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from tqdm.auto import tqdm

from dltheory.runtime import in_ci

T = TypeVar("T")


def progress(iterable: Iterable[T], desc: str | None = None, total: int | None = None) -> Iterable[T]:
    """Wrap `iterable` in a `tqdm.auto` progress bar, silent when the variable `CI` is set.

    Serves every notebook with a loop of more than a few seconds.

    Args:
        iterable: what to loop over.
        desc: a short label shown before the bar.
        total: the number of items, when `len(iterable)` is not defined.
    """
    return tqdm(iterable, desc=desc, total=total, disable=in_ci(), leave=False)
