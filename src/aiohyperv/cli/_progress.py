"""The live progress display of ``aiohyperv inventory`` on a terminal.

Two lines on stderr, redrawn in place a few times a second::

    [###########-------------]  23/50 hosts  1 failed  460 VMs  11.5 hosts/s  2.0s
    waiting for: hv017:5986 9.8s, hv031:5986 4.1s, hv002:5986 1.2s

The first line has the counts, the rate and the elapsed time; the second names the hosts that
have been pending longest, so a hanging host is visible by name while the clock keeps ticking.
A ticker task redraws even when no host finishes.  Each frame is one write that moves the cursor
back up and overwrites the lines in place (``ESC[K`` clears what is left of each), with no
clearing of the screen in between, so it does not flicker.  Lines are cut to the width of the
terminal stderr is attached to.

Nothing is drawn when the stream is not a terminal (a pipe, a file, a CI log), or with ``-q``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from aiohyperv.fleet._fleet import FleetEvent, FleetProgress
    from aiohyperv.fleet._model import HostInventory

__all__ = ["LiveProgress"]

_CLEAR_LINE = "\x1b[K"
_UP = "\x1b[1A"


def _terminal_columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 80


class LiveProgress:
    """Counts from fleet events, drawn on a terminal; does nothing elsewhere.

    Args:
        stream: Where to draw (stderr).
        enabled: Force drawing on or off; None draws only when ``stream.isatty()``.
        interval: Seconds between redraws while nothing happens.
        slowest: How many pending hosts the second line names.
        clock: Monotonic clock (seconds).
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        enabled: bool | None = None,
        interval: float = 0.25,
        slowest: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        if enabled is None:
            try:
                enabled = stream.isatty()
            except (ValueError, AttributeError):
                enabled = False
        self.enabled = enabled
        self.interval = interval
        self.slowest = slowest
        self._clock = clock
        self._t0 = clock()
        self._pending: dict[str, float] = {}
        self._progress: FleetProgress | None = None
        self._vms = 0
        self._lines = 0  # lines of the frame on screen

    def event(self, event: FleetEvent[HostInventory]) -> None:
        """Take in one fleet event (drawn at the next tick)."""
        self._progress = event.progress
        result = event.result
        if result is None:
            self._pending[event.host] = self._clock()
            return
        self._pending.pop(event.host, None)
        if result.value is not None:
            self._vms += len(result.value.vms)

    def lines(self) -> list[str]:
        """The frame as it would be drawn now (without terminal control sequences)."""
        now = self._clock()
        elapsed = now - self._t0
        p = self._progress
        total = p.total if p else 0
        done = p.done if p else 0
        failed = p.failed if p else 0
        rate = done / elapsed if elapsed > 0 else 0.0
        width = 24
        filled = int(width * done / total) if total else 0
        first = (
            f"[{'#' * filled}{'-' * (width - filled)}]  {done}/{total} hosts  {failed} failed  "
            f"{self._vms} VMs  {rate:.1f} hosts/s  {elapsed:.1f}s"
        )
        pending = sorted(self._pending.items(), key=lambda item: item[1])[: self.slowest]
        second = ""
        if pending:
            names = ", ".join(f"{host} {now - since:.1f}s" for host, since in pending)
            more = len(self._pending) - len(pending)
            second = f"waiting for: {names}" + (f" (+{more} more)" if more else "")
        return [first, second]

    def draw(self) -> None:
        """Redraw the frame in place."""
        if not self.enabled:
            return
        columns = _terminal_columns(self.stream)
        lines = [line[: max(columns - 1, 1)] for line in self.lines()]
        back = _UP * (self._lines - 1) if self._lines else ""
        frame = back + "\r" + "\n".join(line + _CLEAR_LINE for line in lines)
        self.stream.write(frame)
        self.stream.flush()
        self._lines = len(lines)

    def clear(self) -> None:
        """Erase the frame; the cursor is left where it started."""
        if not self.enabled or not self._lines:
            return
        self.stream.write("\r" + _CLEAR_LINE + (_UP + _CLEAR_LINE) * (self._lines - 1))
        self.stream.flush()
        self._lines = 0

    @contextlib.asynccontextmanager
    async def ticking(self) -> AsyncIterator[None]:
        """Redraw every ``interval`` seconds for the duration of the block; erase at the end."""
        if not self.enabled:
            yield
            return

        async def tick() -> None:
            while True:
                self.draw()
                await asyncio.sleep(self.interval)

        task = asyncio.create_task(tick(), name="aiohyperv-progress")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.wait([task])  # never swallows a cancellation of the caller
            self.clear()
