"""One plotting style for every figure of the book (Preface, "How to read a figure").

Figures are drawn on an opaque white card with dark ink and the colour-blind-safe Okabe-Ito
palette, so they stay legible on both the light and the dark page theme. Theory is always a
line and measurement always markers; `theory` and `measured` draw them that way.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: Okabe and Ito's palette, safe for the common forms of colour blindness.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # green
    "#CC79A7",  # purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
)

STYLE: dict[str, object] = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.edgecolor": "#333333",
    "axes.labelcolor": "#111111",
    "text.color": "#111111",
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "legend.framealpha": 0.9,
    "lines.linewidth": 1.8,
    "lines.markersize": 6,
    "axes.prop_cycle": cycler(color=list(PALETTE)),
}


def use_book_style() -> None:
    """Make the book's style the default for all later figures (called by `dltheory.setup`)."""
    mpl.rcParams.update(STYLE)


def figure(ncols: int = 1, nrows: int = 1, width: float | None = None,
           height: float | None = None) -> tuple[Figure, np.ndarray]:
    """A new figure in the book's style with a grid of axes, always returned as a 2-D array.

    Panels default to a size that keeps text legible in the book's text column (about 7 inches wide):
    6.4 x 4 inches for a single panel, 3.6 x 3.2 inches each when there are several.

    Args:
        ncols, nrows: the grid of panels; each must be at least 1.
        width, height: the size of one panel in inches.
    """
    if ncols < 1 or nrows < 1:
        raise ValueError(f"ncols and nrows must be at least 1, got ncols={ncols}, nrows={nrows}")
    single = ncols == 1 and nrows == 1
    width = width if width is not None else (6.4 if single else 3.6)
    height = height if height is not None else (4.0 if single else 3.2)
    with mpl.rc_context(STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False,
                                 layout="constrained")
        interactive = mpl.is_interactive()  # the inline backend switches this on with the first figure
    mpl.interactive(interactive)  # leaving rc_context would switch it off again, hiding later figures
    return fig, axes


def theory(ax: Axes, x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, label: str,
           **kwargs: object) -> None:
    """Draw a prediction as a line (the book's convention for theory)."""
    ax.plot(x, y, linestyle=kwargs.pop("linestyle", "-"), label=label, **kwargs)


def measured(ax: Axes, x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, label: str,
             **kwargs: object) -> None:
    """Draw measurements as markers without a line (the book's convention for experiment)."""
    ax.plot(x, y, linestyle="none", marker=kwargs.pop("marker", "o"), label=label, **kwargs)
