"""Run a fleet across several worker processes, for when one core is the limit.

A single event loop inventories a host in about 15-20 ms of CPU (HTTP, NTLM sealing, XML), so
past a few hundred hosts the client's one core, not the network, sets the pace.  With
``Fleet(processes=N)`` the hosts are dealt round-robin to N child interpreters
(``python -m aiohyperv.fleet._processes``), each running an ordinary one-process ``Fleet`` over
its share with ``concurrency / N`` workers, its own pool and the same per-host deadline.  The
parent keeps the global counts and re-emits every child event as its own, so ``run``,
``stream``, ``events`` and ``on_event`` behave as in one process.

Wire format, child's stdin and stdout, each frame a 4-byte big-endian length and a pickle:
the parent sends ``sys.path`` then a :class:`_Job`; the child answers ``("event", kind, local
index, result or None)`` frames and finally ``("done",)``.  The child's own stdout is pointed at
stderr first, so a ``print`` in an operation cannot corrupt the frames.  Closing the child's
stdin cancels it (the parent does that when its run is cancelled), and a child that dies fails
the hosts it had not finished, not the run.

What crosses the process boundary has to pickle: the operation (a module-level function, not
one defined in ``__main__``), the pool factory, the results and their errors (every
:class:`~aiohyperv.HyperVError` does).  Credentials travel in the pipe, never in the command
line or the environment; an auth *callback* is called in the parent, once per host, and only
the credentials it returns are sent.  The workers start with the parent's environment minus
its credential variables (:func:`worker_environment`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import os
import pickle
import struct
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .._credentials import ENV_PASSWORD, Credentials, resolve_session_credentials
from .._exceptions import ConfigError, HyperVError
from .._log import logger
from ._fleet import Fleet, FleetEvent, FleetHost, HostResult, _Counts, _finished, _started

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator, Mapping

    from .._config import ConnectionURI
    from .._credentials import AuthCallback
    from ._fleet import HostOperation

__all__ = ["start_workers"]

T = TypeVar("T")

_HEADER = struct.Struct(">I")
#: Words in an environment variable's name that keep it from the workers' environment.
_CREDENTIAL_WORDS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN")
#: A frame bigger than this is a broken child, not a big inventory (a 500-VM host is ~1 MiB).
_MAX_FRAME = 256 * 1024 * 1024
#: How long a cancelled child gets to cancel its hosts and close its connections.
_STOP_GRACE = 5.0


@dataclass(frozen=True, slots=True)
class _Job:
    """What one child runs: the operation and the fleet's settings (hosts come one by one)."""

    op: Any  # HostOperation; pickled by reference
    concurrency: int
    timeout: float | None
    pool_factory: Any  # Callable[[], SessionPool] | None
    gc_threshold: tuple[int, int, int]
    gc_frozen: bool
    log_level: int  # the parent's effective level for the "aiohyperv" logger


def _frame(obj: object) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


async def _read_frame(reader: asyncio.StreamReader) -> object:
    """The next frame, or None at a clean end of stream."""
    try:
        header = await reader.readexactly(_HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise EOFError("stream ended inside a frame header") from None
        return None
    (size,) = _HEADER.unpack(header)
    if size > _MAX_FRAME:
        raise EOFError(f"frame of {size} bytes is over the {_MAX_FRAME}-byte limit")
    try:
        data = await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        raise EOFError("stream ended inside a frame") from None
    return pickle.loads(data)  # our own child process, over its own pipe


def check_sendable(fleet: Fleet, op: HostOperation[Any]) -> None:
    """Raise ``ConfigError`` if the run cannot be shared with worker processes."""
    check_picklable("the operation", op)
    if fleet._pool_factory is not None:
        check_picklable("the pool factory", fleet._pool_factory)


def check_picklable(what: str, obj: object) -> None:
    """Raise ``ConfigError`` if ``obj`` cannot be sent to a worker process."""
    module = getattr(obj, "__module__", None)
    if module == "__main__":
        raise ConfigError(
            f"{what} {obj!r} is defined in __main__, which worker processes cannot import; "
            "define it in a module to run the fleet with processes > 1"
        )
    try:
        pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise ConfigError(
            f"{what} {obj!r} cannot be sent to a worker process ({exc}); use a module-level "
            "function to run the fleet with processes > 1"
        ) from None


# -- parent --------------------------------------------------------------------------------------


def start_workers(
    fleet: Fleet,
    tg: asyncio.TaskGroup,
    op: HostOperation[T],
    hosts: Iterator[tuple[int, tuple[str, ConnectionURI]]],
    counts: _Counts,
    emit: Callable[[FleetEvent[T]], Awaitable[None]],
    processes: int,
) -> tuple[int, Iterator[tuple[int, tuple[str, ConnectionURI]]]]:
    """Start ``processes - 1`` worker processes in ``tg``, feeding on ``hosts``.

    Returns how many hosts the calling loop should work on at once itself (its share of
    ``fleet.concurrency``) and the iterator it must take them from (``hosts``, watched: a
    worker process still starting when the last host is handed out is stopped at once).
    Each worker process takes a host from the shared iterator whenever one of its own slots
    frees, so a slow-starting or slow process takes fewer.

    Call :func:`check_sendable` first (outside the task group, so that its error is the
    caller's, not an ``ExceptionGroup``).
    """
    share = max(1, -(-fleet.concurrency // processes))
    job = _Job(
        op=op,
        concurrency=share,
        timeout=fleet.timeout,
        pool_factory=fleet._pool_factory,
        gc_threshold=gc.get_threshold(),
        gc_frozen=gc.get_freeze_count() > 0,
        log_level=logger.getEffectiveLevel(),
    )
    exhausted = asyncio.Event()
    watched = _watch(hosts, exhausted)
    for n in range(processes - 1):
        child = _Child(fleet, job, watched, counts, emit, exhausted)
        tg.create_task(child.run(), name=f"fleet-process-{n + 1}")
    return share, watched


def _watch(items: Iterator[T], exhausted: asyncio.Event) -> Iterator[T]:
    yield from items
    exhausted.set()


class _Child:
    """One worker process, seen from the parent: feeds it hosts, relays its events."""

    def __init__(
        self,
        fleet: Fleet,
        job: _Job,
        hosts: Iterator[tuple[int, tuple[str, ConnectionURI]]],
        counts: _Counts,
        emit: Callable[[FleetEvent[Any]], Awaitable[None]],
        exhausted: asyncio.Event,
    ) -> None:
        self.exhausted = exhausted
        self.fleet = fleet
        self.job = job
        self.hosts = hosts
        self.counts = counts
        self.emit = emit
        self.sent: dict[int, ConnectionURI] = {}  # hosts the child has and has not finished
        self.started: set[int] = set()
        self.ended = False

    async def run(self) -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "aiohyperv.fleet._processes",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=worker_environment(os.environ),
        )
        assert proc.stdin is not None and proc.stdout is not None
        clean = False
        try:
            proc.stdin.write(_frame(list(sys.path)) + _frame(self.job))
            if await self._wait_ready(proc.stdout):
                await self._feed(proc.stdin, self.job.concurrency)
                clean = await self._serve(proc.stdin, proc.stdout)
            else:  # every host was handed out while it started: nothing left for it
                clean = True
                proc.kill()  # it holds no connection yet; waiting for it to start is waste
        except (EOFError, pickle.UnpicklingError, ConnectionError) as exc:
            logger.warning("fleet: worker process %s failed: %r", proc.pid, exc)
        finally:
            await _stop(proc)
        if not clean or self.sent:
            # Its unfinished hosts fail; the ones it never got go to the other workers.
            why = f"the worker process running this host exited (code {proc.returncode})"
            for index, uri in sorted(self.sent.items()):
                if index not in self.started:
                    await _started(self.counts, self.emit, index, uri.host_label)
                error = HyperVError(why, host=uri.host_label)
                await _finished(
                    self.counts,
                    self.emit,
                    HostResult(host=uri.host_label, uri=uri, index=index, error=error),
                )
            self.sent.clear()

    async def _wait_ready(self, stdout: asyncio.StreamReader) -> bool:
        """Wait for the child's "ready"; False if the hosts ran out first."""
        ready = asyncio.ensure_future(_read_frame(stdout))
        out = asyncio.ensure_future(self.exhausted.wait())
        try:
            await asyncio.wait({ready, out}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            out.cancel()
            if not ready.done():
                ready.cancel()
            await asyncio.wait({ready, out})
        if ready.cancelled():
            return False
        if ready.result() != ("ready",):
            raise EOFError("the worker process did not start")
        return True

    async def _serve(self, stdin: asyncio.StreamWriter, stdout: asyncio.StreamReader) -> bool:
        while True:
            frame = await _read_frame(stdout)
            if frame is None:
                return False
            if not isinstance(frame, tuple) or not frame:
                raise EOFError(f"unexpected frame {type(frame).__name__}")
            tag = frame[0]
            if tag == "done":
                return True
            if tag == "started":
                index = frame[1]
                self.started.add(index)
                await _started(self.counts, self.emit, index, self.sent[index].host_label)
            elif tag == "result":
                result: HostResult[Any] = frame[1]
                self.sent.pop(result.index, None)
                self.started.discard(result.index)
                await _finished(self.counts, self.emit, result)
                await self._feed(stdin, 1)
            else:
                raise EOFError(f"unexpected frame {tag!r}")

    async def _feed(self, stdin: asyncio.StreamWriter, n: int) -> None:
        """Send up to ``n`` more hosts; once none are left, tell the child so."""
        while n > 0 and not self.ended:
            item = next(self.hosts, None)
            if item is None:
                self.ended = True
                stdin.write(_frame(("end",)))
                break
            index, (text, uri) = item
            source = await _auth_source(self.fleet, text, uri)
            if isinstance(source, HyperVError):
                await _started(self.counts, self.emit, index, uri.host_label)
                await _finished(
                    self.counts,
                    self.emit,
                    HostResult(host=uri.host_label, uri=uri, index=index, error=source),
                )
                continue
            self.sent[index] = uri
            stdin.write(_frame(("host", index, text, uri, source)))
            n -= 1
        await stdin.drain()


def _is_credential_variable(name: str) -> bool:
    upper = name.upper()
    return name == ENV_PASSWORD or any(word in upper for word in _CREDENTIAL_WORDS)


def worker_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment a worker process starts with: the parent's, minus credentials.

    Credentials reach a worker through its pipe, resolved by the parent; a password left in
    the environment would be readable by anyone who may read ``/proc/<pid>/environ`` of the
    worker, for as long as it runs.  ``AIOHYPERV_PASSWORD`` and every variable whose name says
    it holds a password, secret or token are left out.
    """
    return {name: value for name, value in environ.items() if not _is_credential_variable(name)}


async def _auth_source(
    fleet: Fleet, text: str, uri: ConnectionURI
) -> Credentials | HyperVError | None:
    """The host's auth source as it can travel: credentials, None (the child looks them up
    in its environment and auth.conf, which are the parent's), or the error resolving a
    callback raised."""
    source: Credentials | AuthCallback | None = fleet._auth_for(text, uri)
    if source is None or isinstance(source, Credentials):
        return source
    try:
        return await resolve_session_credentials(uri, source)
    except HyperVError as exc:
        return exc.with_host(uri.host_label)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """Stop the child and reap it, even if the calling task is being cancelled.

    Closing its stdin asks it to cancel its hosts and close its connections; one that has not
    exited after :data:`_STOP_GRACE` seconds is killed.  The stopping runs in a task of its own
    so that the caller's cancellation cannot leave the process unreaped.
    """
    stopping = asyncio.ensure_future(_stop_and_reap(proc))
    try:
        await asyncio.shield(stopping)
    except asyncio.CancelledError:
        if proc.returncode is None:
            proc.kill()
        await asyncio.wait({stopping})
        raise


async def _stop_and_reap(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None and proc.stdin is not None and not proc.stdin.is_closing():
        proc.stdin.close()
    if proc.returncode is None:
        try:
            async with asyncio.timeout(_STOP_GRACE):
                await proc.wait()
        except TimeoutError:
            logger.warning("fleet: worker process %s did not stop; killing it", proc.pid)
    if proc.returncode is None:
        proc.kill()
    await proc.wait()


# -- child ---------------------------------------------------------------------------------------


async def _child_main(job: _Job, stdin: asyncio.StreamReader, out: asyncio.StreamWriter) -> None:
    auth: dict[str, Credentials] = {}  # URI text -> credentials, for the hosts in flight
    fleet = Fleet(
        [],
        auth=auth,
        concurrency=job.concurrency,
        timeout=job.timeout,
        pool_factory=job.pool_factory,
    )
    queue: asyncio.Queue[tuple[int, str, ConnectionURI] | None] = asyncio.Queue()

    async def send(frame: tuple[Any, ...]) -> None:
        out.write(_frame(frame))
        await out.drain()

    async def worker() -> None:
        while (item := await queue.get()) is not None:
            index, text, uri = item
            await send(("started", index))
            result = await fleet._run_one(job.op, FleetHost(fleet, index, uri, text))
            auth.pop(text, None)
            out.write(_result_frame(result))
            await out.drain()

    async def run() -> None:
        async with fleet, asyncio.TaskGroup() as tg:
            for _ in range(job.concurrency):
                tg.create_task(worker())
            await send(("ready",))
            while True:
                frame = await _read_frame(stdin)
                if frame is None:  # the parent closed our stdin: stop now
                    raise asyncio.CancelledError
                if not isinstance(frame, tuple) or not frame:
                    raise EOFError(f"unexpected frame {type(frame).__name__}")
                if frame[0] == "end":
                    break
                _, index, text, uri, source = frame
                if source is not None:
                    auth[text] = source
                queue.put_nowait((index, text, uri))
            for _ in range(job.concurrency):
                queue.put_nowait(None)
        await send(("done",))

    await run()


def _result_frame(result: HostResult[Any]) -> bytes:
    """The frame of ``result``; if it does not pickle, of the same result with a plain error
    that says what it was (the value or error stays in the worker)."""
    try:
        return _frame(("result", result))
    except Exception as exc:
        what = result.error if result.error is not None else result.value
        error = HyperVError(
            f"{type(what).__name__}: {what} (could not be sent from the worker process: {exc})",
            host=result.host,
        )
        return _frame(("result", dataclasses.replace(result, value=None, error=error)))


async def _child_async() -> None:
    loop = asyncio.get_running_loop()
    # Frames go to the original stdout; fd 1 (and sys.stdout) now point at stderr, so stray
    # prints from an operation land in the log instead of the frame stream.
    frames = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin.buffer)
    # The write side as asyncio's own streams build it: a StreamReaderProtocol (public, in
    # asyncio.__all__) gives the writer its drain() flow control; its reader stays unused.
    out_protocol = asyncio.StreamReaderProtocol(asyncio.StreamReader())
    transport, _ = await loop.connect_write_pipe(lambda: out_protocol, frames)
    out = asyncio.StreamWriter(transport, out_protocol, None, loop)
    try:
        path = await _read_frame(stdin)
        if isinstance(path, list):
            sys.path[:] = [p for p in path if isinstance(p, str)]
        job = await _read_frame(stdin)
        if not isinstance(job, _Job):
            raise EOFError("no job received")
        gc.set_threshold(*job.gc_threshold)
        if job.gc_frozen:
            gc.freeze()
        _log_like_the_parent(job.log_level)
        await _child_main(job, stdin, out)
    finally:
        transport.close()


def _log_like_the_parent(level: int) -> None:
    """aiohyperv's records at the parent's level, on stderr, marked with this worker's pid.

    The parent's handlers cannot cross a process boundary; its level can, so ``-d`` on the
    command line shows the workers' debug lines too, and a quiet parent keeps them quiet.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"%(name)s[worker {os.getpid()}]: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def main() -> None:
    """Entry point of a worker process (``python -m aiohyperv.fleet._processes``)."""
    try:
        asyncio.run(_child_async())
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.exit(1)
    except (EOFError, BrokenPipeError) as exc:
        print(f"aiohyperv fleet worker: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy: the job's classes must be the
    # ones pickle finds under aiohyperv.fleet._processes.
    from aiohyperv.fleet._processes import main as _main

    _main()
