"""Batches of hosts for runs spread over other processes or machines (no Dask import here).

A run with ``processes=N`` or ``cluster=...`` splits the hosts into batches; each batch is
inventoried by one task in a worker process with its own event loop and session pool
(:func:`run_batch`), and its results come back together.  This module holds what both
mechanisms share: the batch plan, the worker side, the credentials the client resolves for the
workers, and the environment a local worker process is started with.

Credentials are resolved here, in the client: an auth callback runs once per host in the
calling process, and only the :class:`~aiohyperv.Credentials` it returns travel, inside a
:class:`Secrets` holder whose ``repr`` shows no password.  A host the client has nothing for
travels with none, and the worker looks in its own environment and libvirt ``auth.conf``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import os
import pickle
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .._credentials import ENV_PASSWORD, ENV_USERNAME, Credentials, resolve_session_credentials
from .._exceptions import CredentialsError, HyperVError
from .._log import logger
from ._fleet import Fleet, FleetEvent, FleetHost, HostResult, _Counts, _finished, _started

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

    from .._config import ConnectionURI
    from .._transport import SessionPool
    from ._fleet import HostOperation

__all__ = [
    "BatchHost",
    "BatchSettings",
    "Reporter",
    "Secrets",
    "batch_size_for",
    "is_secret_variable",
    "plan_batches",
    "resolve_secrets",
    "run_batch",
    "run_batch_blocking",
    "worker_environment",
]

T = TypeVar("T")

#: Batches per worker thread when the size is chosen automatically: several, so that a lost
#: worker loses little work and a fast worker takes more, few enough that a batch still keeps
#: its share of the concurrency busy.
BATCHES_PER_SLOT = 4
#: The largest automatic batch (its results travel back as one message).
MAX_BATCH = 500
#: The smallest automatic batch (unless a thread's share of the fleet is smaller): a batch
#: waits for its slowest host's chain of round trips (~10 of them for an inventory), so a
#: worker needs a few dozen hosts in flight to keep its core busy in the meantime.
MIN_BATCH = 50


@dataclass(frozen=True, slots=True)
class BatchHost:
    """One host of a batch: its place in the fleet, its URI, and which secret is its own.

    ``secret`` indexes the :class:`Secrets` the batch receives (-1: the worker looks the
    credentials up itself).  No credential is ever part of this value.
    """

    index: int
    text: str
    uri: ConnectionURI
    secret: int = -1


class Secrets:
    """The credentials of a group of hosts, on their way to the workers that need them.

    The ``repr`` shows only a count, so a log line, a dashboard or a task's description cannot
    show a password; the value itself travels as task data (never in a task key).
    """

    __slots__ = ("items",)

    def __init__(self, items: Sequence[Credentials]) -> None:
        self.items = tuple(items)

    def __repr__(self) -> str:
        return f"<Secrets: {len(self.items)} credentials>"

    def __reduce__(self) -> tuple[type[Secrets], tuple[tuple[Credentials, ...]]]:
        return (Secrets, (self.items,))


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchSettings:
    """What a batch runs with besides its hosts: the fleet's settings, its share of them."""

    concurrency: int
    timeout: float | None
    pool_factory: Callable[[], SessionPool] | None = None
    #: The client's level for the "aiohyperv" logger, for worker processes of its own (which
    #: then log to their stderr, the client's); None leaves a shared worker's logging alone.
    log_level: int | None = None


def batch_size_for(hosts: int, slots: int, requested: int | None = None) -> int:
    """How many hosts go into one batch.

    Args:
        hosts: Hosts in the run (or in one site).
        slots: Tasks the workers run at once (their threads).
        requested: A size the caller asked for (wins when given).
    """
    if requested is not None:
        return max(1, requested)
    slots = max(1, slots)
    share = math.ceil(hosts / slots)
    size = max(math.ceil(share / BATCHES_PER_SLOT), min(share, MIN_BATCH))
    return max(1, min(MAX_BATCH, size))


def plan_batches(hosts: Sequence[T], size: int) -> list[list[T]]:
    """Consecutive slices of ``hosts`` of at most ``size`` each."""
    return [list(hosts[i : i + size]) for i in range(0, len(hosts), size)]


async def resolve_secrets(
    fleet: Fleet, hosts: Iterable[tuple[int, str, ConnectionURI]]
) -> tuple[list[BatchHost], list[HostResult[Any]], Secrets]:
    """Resolve every host's credentials here, in the client.

    Returns:
        The hosts that can go to a worker (each naming its secret), the hosts whose auth
        callback failed (as failed results), and the distinct credentials they use.
    """
    items = list(hosts)
    found = await asyncio.gather(*(_resolve_one(fleet, text, uri) for _, text, uri in items))
    ready: list[BatchHost] = []
    failed: list[HostResult[Any]] = []
    slots: dict[Credentials, int] = {}
    for (index, text, uri), source in zip(items, found, strict=True):
        if isinstance(source, HyperVError):
            failed.append(HostResult(host=uri.host_label, uri=uri, index=index, error=source))
            continue
        secret = -1 if source is None else slots.setdefault(source, len(slots))
        ready.append(BatchHost(index, text, uri, secret))
    return ready, failed, Secrets(list(slots))


async def _resolve_one(
    fleet: Fleet, text: str, uri: ConnectionURI
) -> Credentials | HyperVError | None:
    source = fleet._auth_for(text, uri)
    try:
        return await resolve_session_credentials(uri, source)
    except CredentialsError as exc:
        if source is None:
            return None  # nothing here: the worker may have its own environment or auth.conf
        return exc.with_host(uri.host_label)
    except HyperVError as exc:
        return exc.with_host(uri.host_label)


async def run_batch(
    op: HostOperation[T],
    hosts: Sequence[BatchHost],
    secrets: Secrets | None,
    settings: BatchSettings,
    started: Callable[[int], object] | None = None,
) -> list[HostResult[T]]:
    """Run ``op`` on a batch of hosts in this process's running loop, with a pool of its own.

    This is the worker side of a distributed or multi-process run.  Each host ends as a
    :class:`HostResult` exactly as in a one-process run; the pool is closed before returning.
    ``started`` is called with a host's index as the host starts.
    """
    if settings.log_level is not None:
        _log_like_the_client(settings.log_level)
    auth: dict[str, Credentials] = {}
    if secrets is not None:
        auth = {h.text: secrets.items[h.secret] for h in hosts if h.secret >= 0}
    fleet = Fleet(
        [],
        auth=auth,
        concurrency=settings.concurrency,
        timeout=settings.timeout,
        pool_factory=settings.pool_factory,
    )
    results: list[HostResult[T]] = []
    queue = iter(hosts)

    async def worker() -> None:
        for host in queue:
            if started is not None:
                started(host.index)
            results.append(
                await fleet._run_one(op, FleetHost(fleet, host.index, host.uri, host.text))
            )

    async with fleet, asyncio.TaskGroup() as tg:
        for _ in range(min(settings.concurrency, len(hosts))):
            tg.create_task(worker())
    return sendable(results)


_log_handler: logging.Handler | None = None


def _log_like_the_client(level: int) -> None:
    """aiohyperv's records at the client's level, on stderr, marked with this worker's pid.

    The client's handlers cannot cross a process boundary; its level can, so ``-d`` on the
    command line shows the workers' debug lines too, and a quiet client keeps them quiet.
    """
    global _log_handler
    if _log_handler is None:
        _log_handler = logging.StreamHandler(sys.stderr)
        _log_handler.setFormatter(logging.Formatter(f"%(name)s[worker {os.getpid()}]: %(message)s"))
        logger.addHandler(_log_handler)
        logger.propagate = False
    logger.setLevel(level)


def sendable(results: list[HostResult[T]]) -> list[HostResult[T]]:
    """``results``, each of which pickles: a value or error that does not is replaced by a
    plain :class:`HyperVError` saying what it was, so that only that host fails (the value
    stays in the worker) instead of the whole batch."""
    try:
        pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return [_sendable_one(r) for r in results]
    return results


def _sendable_one(result: HostResult[T]) -> HostResult[T]:
    try:
        pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        what = result.error if result.error is not None else result.value
        error = HyperVError(
            f"{type(what).__name__}: {what} (could not be sent from the worker process: {exc})",
            host=result.host,
        )
        return dataclasses.replace(result, value=None, error=error)
    return result


def run_batch_blocking(
    op: HostOperation[T],
    hosts: Sequence[BatchHost],
    secrets: Secrets | None,
    settings: BatchSettings,
) -> list[HostResult[T]]:
    """:func:`run_batch` in a fresh event loop (for a process pool's worker)."""
    return asyncio.run(run_batch(op, hosts, secrets, settings))


class Reporter:
    """Turns what comes back from the workers into the fleet's events, each host once.

    A host is reported started at most once (a batch run again after a lost worker starts
    its hosts again) and finished exactly once; a host whose result arrives without a start
    event seen first is reported started just before.
    """

    def __init__(self, counts: _Counts, emit: Callable[[FleetEvent[Any]], Awaitable[None]]) -> None:
        self.counts = counts
        self.emit = emit
        self._started: set[int] = set()
        self._done: set[int] = set()

    async def started(self, index: int, label: str) -> None:
        """Report that host ``index`` started (nothing if it was reported already)."""
        if index in self._started or index in self._done:
            return
        self._started.add(index)
        await _started(self.counts, self.emit, index, label)

    async def finished(self, result: HostResult[Any]) -> None:
        """Report a host's result (nothing if that host has one already)."""
        if result.index in self._done:
            return
        await self.started(result.index, result.host)
        self._done.add(result.index)
        await _finished(self.counts, self.emit, result)

    async def failed(self, host: BatchHost, error: HyperVError) -> None:
        """Report that ``host`` failed with ``error`` without a result from a worker."""
        label = host.uri.host_label
        await self.finished(
            HostResult(host=label, uri=host.uri, index=host.index, error=error.with_host(label))
        )


def is_secret_variable(name: str) -> bool:
    """Whether an environment variable may hold a credential (never passed to a worker)."""
    upper = name.upper()
    return upper in (ENV_PASSWORD, ENV_USERNAME) or any(
        word in upper for word in ("PASSWORD", "PASSWD", "SECRET", "TOKEN")
    )


def worker_environment(
    base: Mapping[str, str] | None = None, *, path: Sequence[str] | None = None
) -> dict[str, str]:
    """The environment a local worker process starts with: this one without credentials.

    Args:
        base: The environment to start from (default ``os.environ``).
        path: Import path entries the worker needs (``sys.path``), so that an operation
            defined in the caller's modules can be found; they go to ``PYTHONPATH``.
    """
    env = {k: v for k, v in (os.environ if base is None else base).items()}
    for name in [n for n in env if is_secret_variable(n)]:
        del env[name]
    if path is not None:
        entries = [p for p in path if p and os.path.isdir(p)]
        if entries:
            env["PYTHONPATH"] = os.pathsep.join(entries)
    return env
