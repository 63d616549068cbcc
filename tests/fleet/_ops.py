"""Module-level operations for the multi-process fleet tests (worker processes import them)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohyperv.fleet import FleetHost

#: The test sets this to its own pid and to a scratch directory: operations behave differently
#: in the test's process and in the workers, and leave a file there when a worker ran one.
PARENT_ENV = "AIOHYPERV_TEST_PARENT_PID"
MARKS_ENV = "AIOHYPERV_TEST_MARKS"


def _in_worker() -> bool:
    return str(os.getpid()) != os.environ.get(PARENT_ENV)


def _mark() -> None:
    (Path(os.environ[MARKS_ENV]) / str(os.getpid())).touch()


def _marked() -> bool:
    return bool(os.listdir(os.environ[MARKS_ENV]))


async def _until_a_worker_ran() -> None:
    """In the test's process: hold the host until some worker has run one (at most 20 s), so
    that this loop cannot finish every host before the workers have started."""
    for _ in range(400):
        if _marked():
            return
        await asyncio.sleep(0.05)


async def whoami(host: FleetHost) -> tuple[str, int]:
    """The host and the pid of the process that ran it."""
    if _in_worker():
        _mark()
        await asyncio.sleep(0.01)
    else:
        await _until_a_worker_ran()
    return host.label, os.getpid()


async def die_in_worker(host: FleetHost) -> int:
    """Kill a worker process outright (as a crash or the OOM killer would)."""
    if _in_worker():
        _mark()
        await asyncio.sleep(0.05)
        os._exit(3)
    await _until_a_worker_ran()
    return os.getpid()


async def slow(host: FleetHost) -> int:
    """Long enough to be cancelled."""
    await asyncio.sleep(30)
    return os.getpid()


async def chatty(host: FleetHost) -> str:
    """Prints to stdout, which in a worker must not corrupt the result stream."""
    print("hello from", host.label)
    return host.label


async def big(host: FleetHost) -> str:
    """A result far larger than a pipe's buffer (64 KiB), from whichever process ran it."""
    await asyncio.sleep(0.05)
    return host.label * 100_000


async def slow_in_workers(host: FleetHost) -> int:
    """Quick in the test's process, stuck in a worker (until cancelled)."""
    if _in_worker():
        _mark()
        await asyncio.sleep(60)
    else:
        await _until_a_worker_ran()
    return os.getpid()


async def logs(host: FleetHost) -> str:
    """Logs a debug line for the host; in the test's process, waits for a worker to run one."""
    if _in_worker():
        _mark()
        logging.getLogger("aiohyperv.test").debug("debug line for %s", host.label)
    else:
        await _until_a_worker_ran()
    return host.label


async def unpicklable(host: FleetHost) -> object:
    """A value that cannot be pickled (a lambda); in the test's process, after a worker ran."""
    if _in_worker():
        _mark()
    else:
        await _until_a_worker_ran()
    return lambda: host.label


async def worker_name(host: FleetHost) -> str:
    """The name of the Dask worker that ran the host."""
    from distributed import get_worker

    return str(get_worker().name)


async def exposure(host: FleetHost) -> dict[str, bool]:
    """Where the host's password shows in the process that runs the host.

    ``/proc/self/environ`` is the environment the process was started with (what a child
    inherited), which ``os.environ`` edits do not change; elsewhere ``os.environ`` stands in.
    """
    password = (await host.credentials()).password
    environ = Path("/proc/self/environ")
    if await asyncio.to_thread(environ.exists):
        start_env = (await asyncio.to_thread(environ.read_bytes)).decode(errors="replace")
    else:  # pragma: no cover - not Linux
        start_env = "\0".join(f"{k}={v}" for k, v in os.environ.items())
    return {
        "environment": password in start_env,
        "os.environ": any(password in v for v in os.environ.values()),
        "command line": any(password in a for a in sys.argv),
    }


async def die_once(host: FleetHost) -> str:
    """The first worker to run a host exits on the spot (a crash); every other run returns."""
    try:
        fd = os.open(Path(os.environ[MARKS_ENV]) / "died", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        await asyncio.sleep(0)
        return host.label
    os.close(fd)
    os._exit(3)


async def signal_then_hang(host: FleetHost) -> None:
    """Write a byte to the FIFO ``started`` in the marks directory, then wait to be cancelled."""
    try:
        fd = os.open(Path(os.environ[MARKS_ENV]) / "started", os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        pass  # the test has stopped listening
    else:
        os.write(fd, b"x")
        os.close(fd)
    await asyncio.sleep(60)


async def unpicklable_odd(host: FleetHost) -> object:
    """The label for even hosts, a value that cannot be pickled (a lambda) for odd ones."""
    if int(host.label[2:4]) % 2:
        return lambda: host.label
    return host.label
