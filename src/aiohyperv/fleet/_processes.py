"""``Fleet(processes=N)``: spread a run over N worker processes on this machine.

A single event loop inventories a host in about 15-20 ms of CPU (HTTP, NTLM sealing, XML), so
past a few hundred hosts the client's one core, not the network, sets the pace.  Two standard
mechanisms carry the batches (:mod:`._batches`), whichever is available:

* with Dask installed (``aiohyperv[dask]``), a ``distributed.LocalCluster`` scheduler in this
  process on 127.0.0.1 and N ``dask worker`` processes (one thread each), run exactly like a
  remote cluster (:mod:`._dask`): batches stream back as they complete, an idempotent batch
  lost with its worker runs again on another, a state-changing one fails its hosts;
* otherwise a ``concurrent.futures.ProcessPoolExecutor`` with the ``spawn`` start method (the
  one every platform has, Windows included).  A worker that dies breaks that pool: the hosts
  of every unfinished batch then fail.

Never more worker processes than hosts.  The workers start with this process's environment
minus every variable that may hold a credential (``AIOHYPERV_PASSWORD`` and anything named like
a password, secret or token, see :func:`._batches.worker_environment`): the credentials the
client resolved reach them as task arguments instead.  The Dask workers are started as
subprocesses with that environment; a process pool's children are spawned while those
variables are briefly out of ``os.environ`` (spawning copies the environment of the moment).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import importlib.util
import multiprocessing
import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING, Any, TypeVar

from .._exceptions import HyperVError
from .._log import logger
from ._batches import (
    BatchHost,
    BatchSettings,
    Reporter,
    batch_size_for,
    is_secret_variable,
    plan_batches,
    resolve_secrets,
    run_batch_blocking,
    worker_environment,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from ._fleet import Fleet, FleetEvent, HostOperation, HostResult, _Counts

__all__ = ["dask_available", "run_local"]

T = TypeVar("T")

#: How long the Dask workers get to start and join (importing Dask takes seconds on a busy box).
WORKER_START_TIMEOUT = 120.0
#: How long a stopped worker process gets to exit before it is killed.
STOP_GRACE = 10.0


def dask_available() -> bool:
    """Whether ``distributed`` can be imported (checked without importing it)."""
    return importlib.util.find_spec("distributed") is not None


async def run_local(
    fleet: Fleet,
    op: HostOperation[T],
    counts: _Counts,
    emit: Callable[[FleetEvent[T]], Awaitable[None]],
    *,
    idempotent: bool,
    processes: int,
) -> None:
    """Run ``op`` on every host of ``fleet`` in ``processes`` local worker processes."""
    if dask_available():
        await _run_on_local_cluster(fleet, op, counts, emit, idempotent=idempotent, n=processes)
    else:
        await _run_on_process_pool(fleet, op, counts, emit, n=processes)


# -- Dask ----------------------------------------------------------------------------------------

#: ``LocalCluster`` arguments for a scheduler in this process, without workers of its own, on
#: loopback only.  No dashboard, and the scheduler's HTTP server (health, metrics) on a free
#: loopback port: its default, 8787, may be taken, and it must not listen beyond 127.0.0.1.
LOOPBACK_SCHEDULER: dict[str, Any] = {
    "n_workers": 0,
    "processes": False,
    "protocol": "tcp://",
    "host": "127.0.0.1",
    "dashboard_address": None,
    "scheduler_kwargs": {"dashboard": False, "dashboard_address": "127.0.0.1:0"},
    "asynchronous": True,
}


async def _run_on_local_cluster(
    fleet: Fleet,
    op: HostOperation[T],
    counts: _Counts,
    emit: Callable[[FleetEvent[T]], Awaitable[None]],
    *,
    idempotent: bool,
    n: int,
) -> None:
    from distributed import Client, LocalCluster

    from ._dask import run_on_client

    async with (
        LocalCluster(**LOOPBACK_SCHEDULER) as cluster,
        Client(cluster, asynchronous=True) as client,
        _worker_processes(cluster.scheduler_address, n) as procs,
    ):
        async with asyncio.timeout(WORKER_START_TIMEOUT):
            await _wait_for_workers(client, n, procs)
        await run_on_client(
            fleet,
            op,
            counts,
            emit,
            idempotent=idempotent,
            client=client,
            log_level=logger.getEffectiveLevel(),
        )


async def _wait_for_workers(client: Any, n: int, procs: list[asyncio.subprocess.Process]) -> None:
    waiting = asyncio.ensure_future(client.wait_for_workers(n))
    exits = [asyncio.ensure_future(p.wait()) for p in procs]
    try:
        done, _ = await asyncio.wait([waiting, *exits], return_when=asyncio.FIRST_COMPLETED)
        if waiting not in done:
            raise HyperVError("a Dask worker process exited while starting")
        waiting.result()
    finally:
        for task in [waiting, *exits]:
            task.cancel()
        await asyncio.wait([waiting, *exits])


@contextlib.asynccontextmanager
async def _worker_processes(address: str, n: int) -> Any:
    env = worker_environment(path=sys.path)
    # Their stderr is ours, for aiohyperv's records (see BatchSettings.log_level); Dask's own
    # start and stop lines would only bury them.
    env["DASK_LOGGING__DISTRIBUTED"] = "error"
    procs: list[asyncio.subprocess.Process] = []
    try:
        for i in range(n):
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "distributed.cli.dask_worker",
                    address,
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                    "--name",
                    f"aiohyperv-local-{i}",
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                )
            )
        yield procs
    finally:
        await asyncio.shield(_stop_all(procs))


async def _stop_all(procs: list[asyncio.subprocess.Process]) -> None:
    for proc in procs:
        if proc.returncode is None:
            proc.terminate()
    for proc in procs:
        try:
            async with asyncio.timeout(STOP_GRACE):
                await proc.wait()
        except TimeoutError:
            logger.warning("fleet: worker process %s did not stop; killing it", proc.pid)
            proc.kill()
            await proc.wait()


# -- concurrent.futures --------------------------------------------------------------------------


@contextlib.contextmanager
def _without_secret_variables() -> Iterator[None]:
    """Take the credential variables out of ``os.environ`` while worker processes spawn."""
    saved = {k: v for k, v in os.environ.items() if is_secret_variable(k)}
    for name in saved:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(saved)


async def _run_on_process_pool(
    fleet: Fleet,
    op: HostOperation[T],
    counts: _Counts,
    emit: Callable[[FleetEvent[T]], Awaitable[None]],
    *,
    n: int,
) -> None:
    hosts = [(index, text, uri) for index, (text, uri) in enumerate(fleet._hosts)]
    report = Reporter(counts, emit)
    ready, failed, secrets = await resolve_secrets(fleet, hosts)
    for result in failed:
        await report.finished(result)
    if not ready:
        return
    settings = BatchSettings(
        concurrency=max(1, -(-fleet.concurrency // n)),
        timeout=fleet.timeout,
        pool_factory=fleet._pool_factory,
        log_level=logger.getEffectiveLevel(),
    )
    batches = plan_batches(ready, batch_size_for(len(ready), n, fleet.batch_size))
    context = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    # Each worker announces its pid, so that a cancelled run can stop the batches in flight
    # (shutting the pool down would wait for them).
    pids: multiprocessing.SimpleQueue[int] = context.SimpleQueue()
    executor = concurrent.futures.ProcessPoolExecutor(
        max_workers=n, mp_context=context, initializer=_announce, initargs=(pids,)
    )
    pending: dict[asyncio.Future[list[HostResult[T]]], list[BatchHost]] = {}
    clean = False
    try:
        with _without_secret_variables():  # submit() spawns the workers, synchronously
            for batch in batches:
                cf = executor.submit(run_batch_blocking, op, batch, secrets, settings)
                pending[asyncio.wrap_future(cf, loop=loop)] = batch
        while pending:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for future in done:
                batch = pending.pop(future)
                exc = future.exception()
                if exc is None:
                    for result in future.result():
                        await report.finished(result)
                    continue
                why = (
                    "the worker process running it exited"
                    if isinstance(exc, concurrent.futures.process.BrokenProcessPool)
                    else f"{type(exc).__name__}: {exc}"
                )
                for host in batch:
                    error = HyperVError(f"no result: {why}")
                    error.__cause__ = exc
                    await report.failed(host, error)
        clean = True
    finally:
        for future in pending:
            future.cancel()
        if not clean:
            while not pids.empty():
                with contextlib.suppress(OSError):  # gone already
                    os.kill(pids.get(), signal.SIGTERM)
        await asyncio.shield(
            loop.run_in_executor(None, lambda: executor.shutdown(wait=True, cancel_futures=True))
        )
        pids.close()


def _announce(pids: multiprocessing.SimpleQueue[int]) -> None:
    """Pool worker initializer: tell the parent this process's pid."""
    pids.put(os.getpid())
