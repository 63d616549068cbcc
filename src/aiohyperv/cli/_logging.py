"""Library logging on the command line: levels like virsh's ``-d``, ``-l FILE``, and warnings
that name many hosts summed up in one line per run.

A fleet run against fifty hosts with ``?no_verify=1`` would otherwise print fifty identical
"TLS certificate verification is off for hvNNN" lines.  Per-host warnings (a message whose
first argument is the host) are held back and written once at the end of the run, naming how
many hosts they apply to; other records are written at once.  Warnings are always shown; ``-d``
lowers the level, stamps each line with the time, and shows every record as it comes.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["VIRSH_LEVELS", "cli_logging"]

#: virsh's ``-d`` levels: 0 debug, 1 info, 2 notice, 3 warning, 4 error.
VIRSH_LEVELS = {
    0: logging.DEBUG,
    1: logging.INFO,
    2: logging.INFO,
    3: logging.WARNING,
    4: logging.ERROR,
}
_NAMED_HOSTS = 3


class _LowerLevelFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def _host_of(record: logging.LogRecord) -> str | None:
    """The host a per-host warning is about: its first %-argument, if it names one."""
    args = record.args
    if record.levelno != logging.WARNING or not isinstance(args, tuple) or not args:
        return None
    first = args[0]
    return first if isinstance(first, str) and first else None


class _PerHostSummary(logging.Filter):
    """Holds back per-host warnings; :meth:`flush` writes one line per kind of warning."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self._held: dict[str, tuple[logging.LogRecord, list[str]]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        host = _host_of(record)
        if host is None:
            return True
        key = str(record.msg)
        entry = self._held.setdefault(key, (record, []))
        if host not in entry[1]:
            entry[1].append(host)
        return False

    def flush(self) -> None:
        for record, hosts in self._held.values():
            if len(hosts) == 1:
                message = record.getMessage()
            else:
                named = ", ".join(hosts[:_NAMED_HOSTS])
                more = f" and {len(hosts) - _NAMED_HOSTS} more" if len(hosts) > _NAMED_HOSTS else ""
                label = f"{len(hosts)} hosts ({named}{more})"
                assert isinstance(record.args, tuple)  # checked by _host_of
                message = str(record.msg) % (label, *record.args[1:])
            self.stream.write(f"warning: {message}\n")
        self._held.clear()


@contextlib.contextmanager
def cli_logging(stream: TextIO, *, level: int | None, logfile: str | None = None) -> Iterator[None]:
    """Send the package's log records to ``stream`` (and ``logfile``) for one CLI run.

    Args:
        stream: stderr.
        level: A virsh ``-d`` level (0-4), or None: warnings and errors, per-host warnings
            summed up at the end.
        logfile: ``-l FILE``: every record at debug level, with timestamps, appended to FILE.

    The package logger's handlers, level and propagation are restored afterwards, so running
    the CLI in-process (tests, notebooks) leaves logging as it found it.
    """
    log = logging.getLogger("aiohyperv")
    saved = (log.level, log.propagate)
    handlers: list[logging.Handler] = []
    summary: _PerHostSummary | None = None
    handler = logging.StreamHandler(stream)
    if level is not None:
        handler.setLevel(VIRSH_LEVELS[level])
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"
            )
        )
    else:
        handler.setLevel(logging.WARNING)
        handler.setFormatter(_LowerLevelFormatter())
        summary = _PerHostSummary(stream)
        handler.addFilter(summary)
    handlers.append(handler)
    if logfile is not None:
        to_file = logging.FileHandler(logfile, encoding="utf-8")
        to_file.setLevel(logging.DEBUG)
        to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handlers.append(to_file)
    log.setLevel(min(h.level for h in handlers))
    for h in handlers:
        log.addHandler(h)
    log.propagate = False
    try:
        yield
    finally:
        for h in handlers:
            log.removeHandler(h)
            h.close()
        log.setLevel(saved[0])
        log.propagate = saved[1]
        if summary is not None:
            summary.flush()
