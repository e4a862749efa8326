"""Python's cyclic garbage collector, held while a run builds the tables it keeps to its end.

Loading OUTPUT's state, planning and keying make a few containers per file (records, jobs, paths,
stamps) that live until the run ends and never form garbage cycles. Each full collection would walk
all of them again: 15% of a no-op run over 20,000 files, and more as the tables grow. Reference
counting frees everything as usual; cycles made meanwhile wait for the collector's next pass.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def held() -> Iterator[None]:
    """No cyclic collection inside; the collector is left as it was found (a caller may have it off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
