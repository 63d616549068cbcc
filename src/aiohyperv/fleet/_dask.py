"""Run a fleet on a Dask distributed cluster (``Fleet(cluster=...)``, ``processes=N``).

The hosts are split into batches (:mod:`._batches`); each batch is one Dask task, an
``async def`` that Dask runs on its worker's event loop with a session pool of its own.  The
batches' results come back as they complete (``distributed.as_completed``) and are reported
as the same events, progress and :class:`HostResult` values as a one-process run.

Credentials: resolved in this process (an auth callback runs here, once per host), then sent
as a :class:`~._batches.Secrets` value scattered straight from this client to the workers
(``scatter(direct=True, broadcast=True)``): they are task *data*, never in a task key, and they
do not pass through the scheduler.  With sites, a site's credentials go to that site's workers
only.  Dask's ``tcp://`` comm is not encrypted: across machines, use a ``tls://`` scheduler
with a ``distributed.security.Security`` (or Dask's ``distributed.comm.tls`` settings).

Sites: hosts tagged with a site are only run by workers that offer a Dask resource of that
name (``dask worker ... --resources site-a=1``).  A site no worker offers fails its hosts.

Lost workers: a batch of an idempotent operation (such as the inventory) may run again on
another worker, as Dask does by default.  An operation that changes state must never run
twice, so its batches carry a guard (a ``distributed.Event`` per batch, set before the first
host is touched): a batch that finds its guard set is a re-run after a lost worker, and
reports every host as failed instead of touching it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import defaultdict, deque
from typing import TYPE_CHECKING, Any, TypeVar

import distributed
from distributed import Client, Event, as_completed, get_worker

from .._exceptions import ConfigError, ConnectError, HyperVError
from ._batches import (
    BatchHost,
    BatchSettings,
    Reporter,
    Secrets,
    batch_size_for,
    plan_batches,
    resolve_secrets,
    run_batch,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from ._fleet import Fleet, FleetEvent, HostOperation, HostResult, _Counts

__all__ = ["connect", "run_on_client", "run_on_cluster"]

T = TypeVar("T")

#: Extra attempts Dask may make at an idempotent batch whose task raised (per-host errors never
#: raise; this covers a worker that could not unpickle the operation, say).  Batches lost with
#: their worker are re-run by the scheduler up to its ``allowed-failures``.
IDEMPOTENT_RETRIES = 2

LOST_WORKER = (
    "the Dask worker running this host was lost; not run again because the operation is "
    "not idempotent (it may or may not have run)"
)


async def connect(cluster: str | Client) -> tuple[Client, bool]:
    """A client for ``cluster`` and whether this call opened it (and must close it).

    Raises:
        ConfigError: ``cluster`` is a client that is not asynchronous.
        ConnectError: The scheduler cannot be reached.
    """
    if isinstance(cluster, Client):
        if not cluster.asynchronous:
            raise ConfigError(
                "Fleet(cluster=...) needs an asynchronous Client (Client(..., asynchronous=True)) "
                "or the scheduler's address"
            )
        return cluster, False
    # Security for tls:// comes from Dask's configuration (distributed.comm.tls.*) here; pass
    # an asynchronous Client built with a Security to choose it in code.
    try:
        client = await Client(cluster, asynchronous=True)
    except (OSError, TimeoutError) as exc:
        raise ConnectError(f"cannot reach the Dask scheduler at {cluster}: {exc}") from exc
    return client, True


async def run_on_cluster(
    fleet: Fleet,
    op: HostOperation[T],
    counts: _Counts,
    emit: Callable[[FleetEvent[T]], Awaitable[None]],
    *,
    idempotent: bool,
    cluster: str | Client,
) -> None:
    """Run ``op`` on every host of ``fleet`` through the Dask cluster ``cluster``."""
    client, owned = await connect(cluster)
    try:
        await run_on_client(fleet, op, counts, emit, idempotent=idempotent, client=client)
    finally:
        if owned:
            await asyncio.shield(client.close())


async def run_on_client(
    fleet: Fleet,
    op: HostOperation[T],
    counts: _Counts,
    emit: Callable[[FleetEvent[T]], Awaitable[None]],
    *,
    idempotent: bool,
    client: Client,
    log_level: int | None = None,
) -> None:
    """Run ``op`` on every host of ``fleet`` with the asynchronous ``client``.

    ``log_level`` is set on the workers' "aiohyperv" logger (only for workers of our own).
    """
    run_id = uuid.uuid4().hex[:12]
    # An asynchronous client's scheduler_info() is a cache without the workers; the
    # scheduler's identity (as that method's documentation advises) has them.
    scheduler = client.scheduler
    if scheduler is None:
        raise ConfigError("the Dask client is not connected to a scheduler")
    identity: dict[str, Any] = await scheduler.identity(n_workers=-1)
    workers: dict[str, Any] = identity.get("workers", {})
    if not workers:
        # Tasks would wait for a worker for ever; give one the per-host deadline to join.
        try:
            # Annotated for the synchronous client; an asynchronous one returns an awaitable.
            wait_for_workers: Any = client.wait_for_workers
            await wait_for_workers(1, timeout=fleet.timeout)
        except TimeoutError:
            report = Reporter(counts, emit)
            error = HyperVError(f"no Dask worker joined {client.scheduler_info().get('address')}")
            for index, (text, uri) in enumerate(fleet._hosts):
                await report.failed(BatchHost(index, text, uri), error)
            return
        identity = await scheduler.identity(n_workers=-1)
        workers = identity.get("workers", {})
    slots = sum(int(w.get("nthreads", 1)) for w in workers.values()) or 1
    settings = BatchSettings(
        concurrency=max(1, -(-fleet.concurrency // slots)),
        timeout=fleet.timeout,
        pool_factory=fleet._pool_factory,
        log_level=log_level,
    )

    by_site: dict[str | None, list[tuple[int, str, Any]]] = defaultdict(list)
    for index, (text, uri) in enumerate(fleet._hosts):
        by_site[fleet._site_for(text, uri)].append((index, text, uri))

    report = Reporter(counts, emit)
    labels = {index: uri.host_label for index, (_, uri) in enumerate(fleet._hosts)}
    # Workers announce each host as it starts (Worker.log_event on a topic of this run); the
    # scheduler relays them here ahead of the batch's completion, on the same ordered streams.
    topic = f"aiohyperv-started-{run_id}"
    starts: deque[int] = deque()
    wake = asyncio.Event()

    def on_start(event: tuple[float, Any]) -> None:
        if isinstance(event[1], int) and event[1] in labels:
            starts.append(event[1])
            wake.set()

    async def flush_starts() -> None:
        while starts:
            index = starts.popleft()
            await report.started(index, labels[index])

    async def pump_starts() -> None:
        while True:
            await wake.wait()
            wake.clear()
            await flush_starts()

    futures: dict[distributed.Future[Any], list[BatchHost]] = {}
    keep: list[distributed.Future[Any]] = []  # the scattered secrets, until the run ends
    guards: list[str] = []
    client.subscribe_topic(topic, on_start)
    pump = asyncio.create_task(pump_starts(), name="aiohyperv-fleet-starts")
    try:
        for site, members in by_site.items():
            site_workers = [a for a, w in workers.items() if site in w.get("resources", {})]
            if site is not None and not site_workers:
                error = HyperVError(
                    f"no Dask worker offers the resource {site!r} for this host's site "
                    f"(start workers with --resources {site}=1)"
                )
                for index, text, uri in members:
                    await report.failed(BatchHost(index, text, uri), error)
                continue
            ready, failed, secrets = await resolve_secrets(fleet, members)
            for result in failed:
                await report.finished(result)
            if not ready:
                continue
            secrets_future: distributed.Future[Any] | None = None
            if secrets.items:
                secrets_future = await client.scatter(
                    secrets,
                    direct=True,
                    broadcast=True,
                    hash=False,
                    workers=site_workers if site is not None else None,
                )
                keep.append(secrets_future)
            site_slots = (
                sum(int(workers[a].get("nthreads", 1)) for a in site_workers)
                if site is not None
                else slots
            )
            size = batch_size_for(len(ready), site_slots, fleet.batch_size)
            for n, batch in enumerate(plan_batches(ready, size)):
                key = f"aiohyperv-batch-{run_id}-{site or ''}-{n}"
                resources = {site: 1} if site is not None else None
                guard = None if idempotent else f"aiohyperv-guard-{run_id}-{site or ''}-{n}"
                if guard is not None:
                    guards.append(guard)
                future = client.submit(
                    _batch_task,
                    topic,
                    guard,
                    op,
                    batch,
                    secrets_future,
                    settings,
                    key=key,
                    retries=IDEMPOTENT_RETRIES if idempotent else 0,
                    resources=resources,
                )
                futures[future] = batch

        async for future in as_completed(list(futures)):
            batch = futures.pop(future)
            try:
                results: list[HostResult[T]] = await future
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
                await _fail_batch(report, batch, "its Dask task was cancelled")
            except Exception as exc:
                await _fail_batch(report, batch, _describe(exc), exc)
            else:
                await flush_starts()
                for result in results:
                    await report.finished(result)
            future.release()
    finally:
        pump.cancel()
        await asyncio.wait([pump])
        with contextlib.suppress(ValueError):
            client.unsubscribe_topic(topic)
        pending = list(futures)
        if pending:
            await asyncio.shield(client.cancel(pending))
        for f in keep:
            f.release()
        if guards:
            with contextlib.suppress(Exception):
                await asyncio.shield(
                    asyncio.gather(*(Event(g, client=client).clear() for g in guards))
                )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, distributed.KilledWorker):
        return "its Dask batch was lost with the workers running it too often (KilledWorker)"
    return f"its Dask batch failed: {type(exc).__name__}: {exc}"


async def _fail_batch(
    report: Reporter, batch: Sequence[BatchHost], why: str, cause: BaseException | None = None
) -> None:
    for host in batch:
        error = HyperVError(f"no result: {why}")
        error.__cause__ = cause
        await report.failed(host, error)


async def _batch_task(
    topic: str,
    guard: str | None,
    op: HostOperation[T],
    hosts: Sequence[BatchHost],
    secrets: Secrets | None,
    settings: BatchSettings,
) -> list[HostResult[T]]:
    """The Dask task of one batch, on a worker's event loop: :func:`run_batch`, announcing
    each host as it starts on ``topic``.

    With a ``guard`` (an operation that is not idempotent), a batch that finds its guard set
    already started once, on a worker since lost: it touches no host and fails them all.
    """
    from ._fleet import HostResult

    if guard is not None:
        event = Event(guard)
        if await event.is_set():
            return [
                HostResult(
                    host=h.uri.host_label,
                    uri=h.uri,
                    index=h.index,
                    error=HyperVError(LOST_WORKER, host=h.uri.host_label),
                )
                for h in hosts
            ]
        await event.set()
    worker = get_worker()
    return await run_batch(
        op, hosts, secrets, settings, started=lambda index: worker.log_event(topic, index)
    )
