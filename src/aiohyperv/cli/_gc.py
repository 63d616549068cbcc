"""Garbage-collector settings for a process that inventories a big fleet.

A fleet run keeps hundreds of hosts in flight, each with its chain of coroutines, its
connection and the rows parsed so far, and gathers thousands of results: many long-lived
objects, which CPython's cyclic collector scans again and again (with the default thresholds a
1,000-host inventory spent about a sixth of its CPU time in the collector).  Almost nothing a
run allocates is cyclic garbage (reference counting frees it), so collections can be rarer.

This is process-wide state, so the library never changes it on its own: the ``aiohyperv
inventory`` command and the fleet benchmark opt in with :func:`tuned_gc`.
"""

from __future__ import annotations

import contextlib
import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["tuned_gc"]


@contextlib.contextmanager
def tuned_gc(threshold: int = 50_000) -> Iterator[None]:
    """Make the cyclic garbage collector cheap for the duration of a fleet run.

    On entry, everything alive so far (imported modules, configuration) is moved out of the
    collector's sight (``gc.freeze``) and a collection of the youngest generation is triggered
    after ``threshold`` net allocations instead of 700; on exit both are undone.  Memory still
    comes back as usual through reference counting; only cyclic garbage waits a little longer.

    Example::

        with aiohyperv.fleet.tuned_gc():
            result = asyncio.run(aiohyperv.inventory(hosts, auth=cb))

    Args:
        threshold: Net allocations between two collections of the youngest generation.
    """
    old = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(threshold, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()
