"""Progress bars with counts and ETA (tqdm on stderr), silenced with ``progress=False``."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from tqdm.auto import tqdm


@contextmanager
def progress(total: int, desc: str, *, initial: int = 0, enabled: bool = True, unit: str = "ex") -> Iterator[tqdm]:
    """A bar over ``total`` items (``unit``; ``ex`` = examples), ``initial`` of them already done."""
    bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, disable=not enabled, dynamic_ncols=True, leave=True)
    try:
        yield bar
    finally:
        bar.close()
