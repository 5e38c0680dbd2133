"""Pausing Python's cyclic garbage collector around bulk loading.

Parsing a large inventory or playbook allocates hundreds of thousands of dicts and lists that
all stay alive; every few thousand allocations the collector walks them looking for cycles
and finds none. Pausing it for the load halved the time of a 10,000-host inventory.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Collector off inside the block; back to how it was afterwards (nesting is fine)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
