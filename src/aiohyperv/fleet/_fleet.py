"""Run one coroutine against many hosts: bounded, deadline-bound, failure-isolated, streaming.

The engine is a fixed pool of worker tasks inside one :class:`asyncio.TaskGroup`.  The workers
share a plain iterator over the hosts (``next()`` never awaits, so no lock is needed) and each
one catches its host's exceptions into a :class:`HostResult`: one dead, slow or faulting host
never cancels the others.  Only a cancellation of the whole run propagates, and then every worker
is cancelled and awaited before the caller sees the ``CancelledError``.

Workers, not one task per host, keep memory flat for fleets of thousands: at most ``concurrency``
hosts hold state at once, and the event buffer between the workers and the consumer is bounded,
so a slow consumer slows the fleet down instead of piling results up.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Generic, Self, TypeAlias, TypeVar

from .._config import ConnectionURI, parse_uri
from .._credentials import Credentials, resolve_credentials, resolve_session_credentials
from .._exceptions import ConfigError, HyperVError, TransportTimeout
from .._lifecycle import AsyncClosing
from .._log import logger

if TYPE_CHECKING:
    from distributed import Client

    from .._credentials import AuthCallback
    from .._transport import Limits, SessionPool, WSManSession
    from ._model import HostInventory

__all__ = [
    "EventKind",
    "Fleet",
    "FleetAuth",
    "FleetEvent",
    "FleetHost",
    "FleetProgress",
    "FleetResult",
    "HostOperation",
    "HostResult",
    "idempotent",
]

#: Hosts worked on at once unless told otherwise (the CLI's default too).
DEFAULT_CONCURRENCY = 64

T = TypeVar("T")
OpT = TypeVar("OpT", bound=Callable[..., object])

#: The attribute :func:`idempotent` sets on an operation.
_IDEMPOTENT = "__aiohyperv_idempotent__"


def idempotent(op: OpT) -> OpT:
    """Declare that an operation only reads, so running it twice on a host is harmless.

    A distributed run may then run it again on another worker when the worker running it is
    lost (:meth:`Fleet.run`'s ``idempotent`` argument says the same for one run).  Operations
    without it are never run twice: their hosts fail instead.

    Example::

        @idempotent
        async def vm_names(host: FleetHost) -> list[str]: ...
    """
    vars(op)[_IDEMPOTENT] = True
    return op


def _is_idempotent(op: object, declared: bool | None) -> bool:
    if declared is not None:
        return declared
    return getattr(op, _IDEMPOTENT, False) is True


#: One auth source for every host, or a mapping from host to its own source.  Mapping keys may be
#: the URI text as given, ``host:port`` (``ConnectionURI.host_label``) or the bare host name.
FleetAuth: TypeAlias = (
    "Credentials | AuthCallback | Mapping[str, Credentials | AuthCallback] | None"
)

#: What :meth:`Fleet.run` calls for each host.
HostOperation: TypeAlias = Callable[["FleetHost"], Awaitable[T]]


class EventKind(StrEnum):
    """What happened to a host."""

    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetProgress:
    """Counts at one moment of a run (a snapshot; it does not change afterwards)."""

    total: int
    started: int
    succeeded: int
    failed: int
    elapsed: float

    @property
    def done(self) -> int:
        """Hosts finished either way."""
        return self.succeeded + self.failed

    @property
    def in_flight(self) -> int:
        """Hosts started but not yet finished."""
        return self.started - self.done


@dataclass(frozen=True, slots=True, kw_only=True)
class HostResult(Generic[T]):
    """The outcome for one host: a value or an error, never both.

    Attributes:
        host: ``host:port`` of the host (its ``ConnectionURI.host_label``).
        uri: The parsed URI the host was reached at.
        index: Position of the host in the list the fleet was given.
        value: What the operation returned (None when it failed).
        error: The exception the operation raised, or None on success.
        elapsed: Seconds from the host's start to its result.
        requests: WS-Management requests the operation sent through :meth:`FleetHost.session`
            (0 when the operation did not use the fleet's pool).
    """

    host: str
    uri: ConnectionURI
    index: int
    value: T | None = None
    error: Exception | None = None
    elapsed: float = 0.0
    requests: int = 0

    @property
    def ok(self) -> bool:
        """True when the operation returned normally."""
        return self.error is None

    def unwrap(self) -> T:
        """Return the value, or raise the host's error."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]  # ok results carry T (which may be None)


@dataclass(frozen=True, slots=True, kw_only=True)
class FleetEvent(Generic[T]):
    """A progress event: a host started, succeeded or failed, with the counts after it."""

    kind: EventKind
    host: str
    index: int
    progress: FleetProgress
    result: HostResult[T] | None = None


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class FleetResult(Generic[T]):
    """Every host's result, in the order the hosts were given.

    Its repr counts the hosts instead of showing them: a 1,000-host inventory's full repr is
    about 40 MB, and Python 3.11's ``asyncio.run`` builds the repr of the main task's result
    when it returns (``Runner.run`` compares signal handlers, and a failed ``Handlers(...)``
    lookup formats the task), so ``asyncio.run(fleet.run(...))`` would otherwise spend that
    memory and CPU on a string nobody reads.

    Attributes:
        results: One :class:`HostResult` per host.
        elapsed: Wall time of the whole run in seconds.
    """

    results: tuple[HostResult[T], ...]
    elapsed: float = 0.0

    @property
    def succeeded(self) -> list[HostResult[T]]:
        """Results of the hosts whose operation returned."""
        return [r for r in self.results if r.error is None]

    @property
    def failed(self) -> list[HostResult[T]]:
        """Results of the hosts whose operation raised (or missed its deadline)."""
        return [r for r in self.results if r.error is not None]

    @property
    def values(self) -> dict[str, T]:
        """``host -> value`` for the hosts that succeeded."""
        return {r.host: r.value for r in self.results if r.error is None}  # type: ignore[misc]

    @property
    def errors(self) -> dict[str, Exception]:
        """``host -> exception`` for the hosts that failed."""
        return {r.host: r.error for r in self.results if r.error is not None}

    @property
    def requests(self) -> int:
        """WS-Management requests sent for the whole fleet."""
        return sum(r.requests for r in self.results)

    def raise_for_errors(self) -> None:
        """Raise an ``ExceptionGroup`` of every host's error; do nothing if all succeeded.

        Each member exception carries ``.host`` (for aiohyperv errors) so ``except*`` handlers can
        tell the hosts apart.
        """
        errors = [r.error for r in self.results if r.error is not None]
        if errors:
            raise ExceptionGroup(f"{len(errors)} of {len(self.results)} hosts failed", errors)

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[HostResult[T]]:
        return iter(self.results)

    def __repr__(self) -> str:
        failed = sum(r.error is not None for r in self.results)
        return (
            f"<FleetResult {len(self.results)} hosts: {len(self.results) - failed} ok, "
            f"{failed} failed, {self.elapsed:.2f} s>"
        )


class FleetHost:
    """What the per-host operation receives: the host's URI and ways to reach it.

    :meth:`session` hands out a WS-Management session from the fleet's shared pool (so per-host
    connection limits, keep-alive and TLS contexts are shared), and counts the requests it sends
    for the host's :class:`HostResult`.
    """

    __slots__ = ("_baselines", "_fleet", "_sessions", "index", "text", "uri")

    def __init__(self, fleet: Fleet, index: int, uri: ConnectionURI, text: str) -> None:
        self._fleet = fleet
        self.index = index
        self.uri = uri
        self.text = text
        self._sessions: list[WSManSession] = []
        self._baselines: list[int] = []

    def __repr__(self) -> str:
        return f"<FleetHost {self.label} #{self.index}>"

    @property
    def label(self) -> str:
        """``host:port``, the name errors and results use."""
        return self.uri.host_label

    @property
    def pool(self) -> SessionPool:
        """The fleet's shared session pool (created on first use)."""
        return self._fleet._get_pool()

    @property
    def auth(self) -> Credentials | AuthCallback | None:
        """The auth source for this host (what ``aiohyperv.connect(auth=...)`` accepts)."""
        return self._fleet._auth_for(self.text, self.uri)

    async def credentials(self) -> Credentials:
        """Resolve this host's credentials from the fleet's auth source.

        Raises:
            CredentialsError: No source could supply them.
        """
        return await resolve_credentials(self.uri, self.auth)

    async def session(self) -> WSManSession:
        """A WS-Management session for this host from the fleet's pool; requests are counted."""
        # auth=kerberos: the user's credential cache unless explicit credentials were given.
        credentials = await resolve_session_credentials(self.uri, self.auth)
        session = self.pool.session(self.uri, credentials)
        # The operation may keep every row of every query until it returns: what the host's
        # enumerations received counts against Limits.max_bytes_per_host until then.
        session.retain_enumerations = True
        self.track(session)
        return session

    def track(self, session: WSManSession) -> None:
        """Count ``session``'s requests from now on towards this host's result."""
        if any(s is session for s in self._sessions):
            return
        self._sessions.append(session)
        self._baselines.append(session.stats.requests)

    @property
    def requests(self) -> int:
        """Requests sent so far by the sessions this host handed out or tracked."""
        return sum(
            s.stats.requests - base for s, base in zip(self._sessions, self._baselines, strict=True)
        )


@dataclass(slots=True)
class _Counts:
    total: int
    started: int = 0
    succeeded: int = 0
    failed: int = 0
    t0: float = field(default_factory=time.perf_counter)

    def snapshot(self) -> FleetProgress:
        return FleetProgress(
            total=self.total,
            started=self.started,
            succeeded=self.succeeded,
            failed=self.failed,
            elapsed=time.perf_counter() - self.t0,
        )


_DONE = object()


async def _started(
    counts: _Counts, emit: Callable[[FleetEvent[T]], Awaitable[None]], index: int, label: str
) -> None:
    counts.started += 1
    await emit(
        FleetEvent(kind=EventKind.STARTED, host=label, index=index, progress=counts.snapshot())
    )


async def _finished(
    counts: _Counts, emit: Callable[[FleetEvent[T]], Awaitable[None]], result: HostResult[T]
) -> None:
    if result.error is None:
        counts.succeeded += 1
        kind = EventKind.SUCCEEDED
    else:
        counts.failed += 1
        kind = EventKind.FAILED
    await emit(
        FleetEvent(
            kind=kind,
            host=result.host,
            index=result.index,
            progress=counts.snapshot(),
            result=result,
        )
    )


#: Connections per host in a pool the fleet opens itself (the pool's own default is 4).
FLEET_PER_HOST_CONNECTIONS = 2

#: ``MaxEnvelopeSize`` of a pool the fleet opens itself: Windows' own ``MaxEnvelopeSizekb``
#: default since Server 2012 (500 KiB; a host configured lower answers within its own limit,
#: MS-WSMV 3.1.4.1.7), so a host of a hundred VMs still answers each whole-host enumeration in
#: one response instead of several Pulls.
FLEET_MAX_ENVELOPE_SIZE = 500 * 1024


def _fleet_limits() -> Limits:
    """The limits of a pool the fleet opens itself.

    Two connections per host, not the pool's default four and not one.  Windows answers an
    optimized Enumerate with its first item only and the rest by Pull (recorded WMI traffic in
    ``tests/data/wsman-samples/real/``), so every query that returns more than one row costs two
    round trips, and a host's inventory about sixteen.  Over one connection they all wait for
    each other; over two, the inventory runs two queries at a time (``collect_inventory``) and
    a host takes about half the round trips of latency, measured by ``benchmarks/bench_fleet.py``
    (its "round trips" column).  More connections would shorten that little further but cost
    more: NTLM, Negotiate and Kerberos authenticate each TCP connection (a 401 challenge and
    two more round trips, plus key derivation on both ends), a fleet holds ``concurrency``
    times as many sockets, and a host's WinRM ``MaxConnections`` budget is shared with everyone
    else.  Responses may be as large as Windows allows by default
    (:data:`FLEET_MAX_ENVELOPE_SIZE`), so one Pull brings the rest of a whole-host enumeration.
    """
    from .._transport import Limits

    return Limits(
        per_host_connections=FLEET_PER_HOST_CONNECTIONS, max_envelope_size=FLEET_MAX_ENVELOPE_SIZE
    )


class Fleet(AsyncClosing):
    """Many Hyper-V hosts, worked on together.

    ``Fleet`` runs one async operation against every host with a global concurrency bound (per
    host limits come from the session pool), a per-host deadline, and failure isolation: each
    host ends as a :class:`HostResult` holding a value or an exception.

    Example::

        async with Fleet(["hyperv://hv01/", "hyperv://hv02/"], auth=cb) as fleet:
            async for result in fleet.stream(op):
                print(result.host, result.ok)
            summary = await fleet.run(op)
            summary.raise_for_errors()

    Used without ``async with``, each run opens its own pool and closes it at the end.

    Args:
        hosts: URIs as text (``hyperv://...``) or :class:`ConnectionURI`.
        auth: Credentials or an auth callback for every host, or a mapping from host (URI text,
            ``host:port`` or host name) to its own.  None uses the environment and libvirt's
            ``auth.conf``.
        concurrency: How many hosts are worked on at once.
        timeout: Deadline in seconds for each host's whole operation (None: no deadline).  A host
            past it fails with :class:`~aiohyperv.TransportTimeout`.
        pool: A session pool to share; the caller keeps ownership.  Without one the fleet makes
            its own (see ``pool_factory``), with two connections per host
            (:data:`FLEET_PER_HOST_CONNECTIONS`: fewer round trips of latency per host, while
            connection-based auth handshakes stay few over a fleet), and closes it.
        pool_factory: Builds the fleet's own pool, e.g. to pass ``Limits``/``Timeouts``.
        processes: Worker processes on this machine to spread the hosts over (1: all in
            this event loop; never more than there are hosts).  One loop spends ~15-20 ms of
            CPU per inventoried host, so past a few hundred hosts a second core doubles the
            pace.  With more than one, the hosts go in batches to a Dask ``LocalCluster``'s
            workers when ``aiohyperv[dask]`` is installed, else to a ``spawn``
            ``ProcessPoolExecutor``; the operation and ``pool_factory`` must pickle, ``pool``
            cannot be shared, an auth callback is called here once per host, ``concurrency``
            is split between the processes, and the workers do not inherit credential
            environment variables (see ``aiohyperv.fleet._processes``).
        cluster: Run on a Dask distributed cluster instead: the scheduler's address
            (``tcp://host:8786``, ``tls://...``) or an asynchronous ``distributed.Client``.
            Batches of hosts run as Dask tasks on the workers and their results stream back;
            credentials are resolved here and sent to the workers directly, never in a task
            key (see ``docs/DISTRIBUTED.md``).  Needs ``aiohyperv[dask]``.
        sites: Host (URI text, ``host:port`` or host name) to site name.  On a cluster, a
            site's hosts run only on workers offering a Dask resource of that name
            (``dask worker --resources site-a=1``).  Ignored in one process.
        batch_size: Hosts per batch with ``processes`` or ``cluster`` (None: adapts to the
            number of hosts and of worker threads, a few batches per thread).

    Raises:
        ConfigError: A host URI cannot be parsed, or an argument is out of range.
    """

    def __init__(
        self,
        hosts: Iterable[str | ConnectionURI],
        *,
        auth: FleetAuth = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        timeout: float | None = 60.0,
        pool: SessionPool | None = None,
        pool_factory: Callable[[], SessionPool] | None = None,
        processes: int = 1,
        cluster: str | Client | None = None,
        sites: Mapping[str, str] | None = None,
        batch_size: int | None = None,
    ) -> None:
        if concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, not {concurrency}")
        if processes < 1:
            raise ConfigError(f"processes must be at least 1, not {processes}")
        if batch_size is not None and batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, not {batch_size}")
        if processes > 1 and cluster is not None:
            raise ConfigError("give either processes > 1 or a cluster, not both")
        if cluster is not None and importlib.util.find_spec("distributed") is None:
            raise ConfigError("running on a Dask cluster needs aiohyperv[dask] (distributed)")
        if (processes > 1 or cluster is not None) and pool is not None:
            raise ConfigError(
                "a SessionPool cannot be shared with worker processes (processes > 1, cluster)"
            )
        if timeout is not None and timeout <= 0:
            raise ConfigError(f"timeout must be positive, not {timeout}")
        self._hosts: list[tuple[str, ConnectionURI]] = []
        for item in hosts:
            if isinstance(item, ConnectionURI):
                self._hosts.append((str(item), item))
            else:
                self._hosts.append((item, parse_uri(item)))
        self._auth = auth
        self.concurrency = concurrency
        self.timeout = timeout
        self._pool = pool
        self._owns_pool = False
        self._pool_factory = pool_factory
        self.processes = processes
        self.cluster = cluster
        self._sites = dict(sites) if sites else {}
        self.batch_size = batch_size
        self._entered = False

    def __repr__(self) -> str:
        return (
            f"<Fleet hosts={len(self._hosts)} concurrency={self.concurrency} "
            f"timeout={self.timeout} processes={self.processes}>"
        )

    def __len__(self) -> int:
        return len(self._hosts)

    @property
    def uris(self) -> list[ConnectionURI]:
        """The parsed host URIs, in the order given."""
        return [uri for _, uri in self._hosts]

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        self._entered = True
        return self

    async def aclose(self) -> None:
        """Close the pool the fleet opened (a pool passed in is left to its owner)."""
        self._entered = False
        pool, owned = self._pool, self._owns_pool
        if owned:
            self._pool, self._owns_pool = None, False
        if owned and pool is not None:
            await asyncio.shield(pool.aclose())

    def _get_pool(self) -> SessionPool:
        if self._pool is None:
            if self._pool_factory is not None:
                self._pool = self._pool_factory()
            else:
                # Imported here: fleets of plain coroutines never need the transport.
                from .._transport import SessionPool

                self._pool = SessionPool(limits=_fleet_limits())
            self._owns_pool = True
        return self._pool

    def _auth_for(self, text: str, uri: ConnectionURI) -> Credentials | AuthCallback | None:
        auth = self._auth
        if auth is None or isinstance(auth, Credentials) or not isinstance(auth, Mapping):
            return auth
        for key in (text, uri.host_label, uri.hostname):
            found = auth.get(key)
            if found is not None:
                return found
        return None

    def _site_for(self, text: str, uri: ConnectionURI) -> str | None:
        for key in (text, uri.host_label, uri.hostname):
            found = self._sites.get(key)
            if found is not None:
                return found
        return None

    # -- running -----------------------------------------------------------------------------

    async def run(
        self,
        op: HostOperation[T],
        *,
        on_event: Callable[[FleetEvent[T]], object] | None = None,
        idempotent: bool | None = None,
    ) -> FleetResult[T]:
        """Run ``op`` on every host and gather the results.

        Args:
            op: ``async def op(host: FleetHost) -> T``.
            on_event: Called (synchronously, in the worker) for every started, succeeded and
                failed event; for progress bars and logs.  It must not block; an exception it
                raises is a bug in the caller and aborts the whole run.
            idempotent: Whether ``op`` may run twice on a host (it only reads).  Matters on a
                cluster or with ``processes``: a batch lost with its worker is then run again
                elsewhere; otherwise its hosts fail with an error saying so.  None: what the
                operation declares with :func:`idempotent` (``inventory_op`` does).

        Returns:
            A :class:`FleetResult` with one result per host, in input order.

        Raises:
            asyncio.CancelledError: The run itself was cancelled (every host task is cancelled
                and awaited first).  Host failures are never raised here; see
                :meth:`FleetResult.raise_for_errors`.
        """
        t0 = time.perf_counter()
        results: list[HostResult[T]] = []
        stream = self.stream(op, on_event=on_event, idempotent=idempotent)
        async with contextlib.aclosing(stream):
            async for result in stream:
                results.append(result)
        results.sort(key=lambda r: r.index)
        return FleetResult(results=tuple(results), elapsed=time.perf_counter() - t0)

    async def inventory(
        self, *, on_event: Callable[[FleetEvent[HostInventory]], object] | None = None
    ) -> FleetResult[HostInventory]:
        """Collect the standard inventory of every host (``run(inventory_op)``)."""
        from ._inventory import inventory_op

        return await self.run(inventory_op, on_event=on_event, idempotent=True)

    async def stream(
        self,
        op: HostOperation[T],
        *,
        on_event: Callable[[FleetEvent[T]], object] | None = None,
        idempotent: bool | None = None,
    ) -> AsyncGenerator[HostResult[T], None]:
        """Yield each host's result as soon as it completes.

        Leaving the ``async for`` early (``break``) or cancelling the consumer cancels the hosts
        still in flight and waits for them.  Use ``contextlib.aclosing`` to make that happen at
        once rather than when the generator is collected.
        """
        events = self.events(op, on_event=on_event, idempotent=idempotent)
        async with contextlib.aclosing(events):
            async for event in events:
                if event.result is not None:
                    yield event.result

    async def events(
        self,
        op: HostOperation[T],
        *,
        on_event: Callable[[FleetEvent[T]], object] | None = None,
        idempotent: bool | None = None,
    ) -> AsyncGenerator[FleetEvent[T], None]:
        """Yield every progress event (started, succeeded, failed) of a run, as it happens.

        Each event carries a :class:`FleetProgress` snapshot; succeeded and failed events carry
        the host's :class:`HostResult`.  On Dask (a cluster, or ``processes`` with Dask
        installed) workers announce each host as it starts and results arrive a batch at a
        time; with a process pool, a batch's hosts are reported started when it returns.
        """
        # Unbounded queue + a semaphore of free slots: producers wait for a slot (backpressure),
        # while the end-of-run marker can always be queued without waiting.
        queue: asyncio.Queue[FleetEvent[T] | object] = asyncio.Queue()
        slots = asyncio.Semaphore(2 * self.concurrency)

        async def emit(event: FleetEvent[T]) -> None:
            if on_event is not None:
                on_event(event)
            await slots.acquire()
            queue.put_nowait(event)

        runner = asyncio.create_task(
            self._drive(op, emit, _is_idempotent(op, idempotent)), name="aiohyperv-fleet"
        )
        runner.add_done_callback(lambda _: queue.put_nowait(_DONE))
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                slots.release()
                yield item  # type: ignore[misc]  # everything but _DONE is a FleetEvent
            if not runner.cancelled() and (exc := runner.exception()) is not None:
                raise exc
        finally:
            if not runner.done():
                runner.cancel()
                await asyncio.wait([runner])

    async def _drive(
        self,
        op: HostOperation[T],
        emit: Callable[[FleetEvent[T]], Awaitable[None]],
        idempotent: bool,
    ) -> None:
        counts = _Counts(total=len(self._hosts))
        hosts: Iterator[tuple[int, tuple[str, ConnectionURI]]] = iter(enumerate(self._hosts))
        pool_was_set = self._pool is not None
        processes = min(self.processes, len(self._hosts))
        if self.cluster is not None and self._hosts:
            from ._dask import run_on_cluster

            await run_on_cluster(
                self, op, counts, emit, idempotent=idempotent, cluster=self.cluster
            )
            return
        if processes > 1:
            from ._processes import run_local

            await run_local(self, op, counts, emit, idempotent=idempotent, processes=processes)
            return
        try:
            async with asyncio.TaskGroup() as tg:
                for n in range(min(self.concurrency, len(self._hosts))):
                    tg.create_task(self._worker(op, hosts, counts, emit), name=f"fleet-worker-{n}")
        finally:
            # A run outside ``async with`` closes the pool it had to open.
            if not self._entered and not pool_was_set and self._owns_pool:
                await self.aclose()

    async def _worker(
        self,
        op: HostOperation[T],
        hosts: Iterator[tuple[int, tuple[str, ConnectionURI]]],
        counts: _Counts,
        emit: Callable[[FleetEvent[T]], Awaitable[None]],
    ) -> None:
        for index, (text, uri) in hosts:
            await _started(counts, emit, index, uri.host_label)
            await _finished(
                counts, emit, await self._run_one(op, FleetHost(self, index, uri, text))
            )

    def _done_with(self, host: FleetHost) -> list[asyncio.Task[None]]:
        """Close the host's connections: its operation ended, and a fleet of thousands of
        hosts would otherwise keep a socket open for every host it has finished."""
        for session in host._sessions:
            session.release_retained()
        if self._pool is None or self._pool.closed:
            return []
        return self._pool.forget_host(host.uri)

    async def _run_one(self, op: HostOperation[T], host: FleetHost) -> HostResult[T]:
        label = host.label
        t0 = time.perf_counter()
        error: Exception | None = None
        value: T | None = None
        deadline = asyncio.timeout(self.timeout)
        try:
            async with deadline:
                value = await op(host)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                _ = self._done_with(host)  # closed by the pool's tasks (aclose waits for them)
                raise  # the whole run is being cancelled
            # A stray CancelledError from inside the operation is that host's failure only.
            error = HyperVError("operation was cancelled", host=label)
        except TimeoutError as exc:
            if deadline.expired():
                error = TransportTimeout(
                    f"no result within the {self.timeout:g} s per-host deadline", host=label
                )
                error.__cause__ = exc
            else:
                error = exc
        except Exception as exc:
            error = exc
        closes = self._done_with(host)
        if closes:
            await asyncio.shield(asyncio.gather(*closes, return_exceptions=True))
        if isinstance(error, HyperVError):
            error.with_host(label)
        elapsed = time.perf_counter() - t0
        if error is not None:
            logger.debug("fleet: %s failed after %.3f s: %r", label, elapsed, error)
        return HostResult(
            host=label,
            uri=host.uri,
            index=host.index,
            value=value,
            error=error,
            elapsed=elapsed,
            requests=host.requests,
        )
