"""The long-lived service: the fleet, the store, the schedule and the web server, wired up.

::

    service = Service(config, targets=uris, auth=auth)
    await service.start()          # migrate, load the latest state, listen, start the schedule
    ...
    await service.aclose()         # stop the schedule (finishing or cancelling the run in
                                   # flight), end the live feeds, stop listening, close the DB
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from aiohttp import web

from aiohyperv import Limits, SessionPool
from aiohyperv._config import ConnectionURI, parse_uri
from aiohyperv.fleet import Fleet, inventory_op
from aiohyperv.fleet._fleet import FLEET_MAX_ENVELOPE_SIZE, FLEET_PER_HOST_CONNECTIONS

from ._db import open_database
from ._events import EventBroker
from ._metrics import ServiceCollector
from ._scheduler import InventoryRunner, RunStats, Scheduler
from ._store import Store

if TYPE_CHECKING:
    from aiohyperv._credentials import AuthCallback, Credentials
    from aiohyperv.fleet import FleetAuth, FleetResult, HostInventory

    from ._config import ServiceConfig
    from ._records import HostRecord

__all__ = ["Service"]

log = logging.getLogger("aiohyperv.service")


class Service:
    """``aiohyperv serve`` as an object (the CLI and the tests drive it the same way).

    Args:
        config: The settings.
        targets: Host URIs.
        auth: What :class:`~aiohyperv.fleet.Fleet` accepts (credentials, a callback, or a
            mapping per host).
        collect: Replaces the fleet inventory (tests); default ``fleet.run(inventory_op)``.
        sample_interval: See :class:`~._store.Store`.
    """

    def __init__(
        self,
        config: ServiceConfig,
        *,
        targets: Sequence[str | ConnectionURI],
        auth: FleetAuth = None,
        collect: Callable[[], Awaitable[FleetResult[HostInventory]]] | None = None,
        sample_interval: float = 3600.0,
    ) -> None:
        self.config = config
        self.uris: dict[str, ConnectionURI] = {}
        for target in targets:
            uri = parse_uri(target) if isinstance(target, str) else target
            self.uris.setdefault(uri.host_label, uri)
        self._targets = list(targets)
        self._auth = auth
        self._collect_override = collect
        self._sample_interval = sample_interval
        self.hosts: dict[str, HostRecord] = {}
        self.broker = EventBroker(queue_size=config.sse_queue, history=config.history_limit)
        self.store: Store | None = None
        self.fleet: Fleet | None = None
        self.pool: SessionPool | None = None
        self.runner: InventoryRunner | None = None
        self.scheduler: Scheduler | None = None
        self.schema_version = 0
        self.started = time.time()
        self._web: web.AppRunner | None = None
        self._stack = contextlib.AsyncExitStack()
        self.collector = ServiceCollector(
            hosts=self.hosts,
            stats=self._stats,
            scheduler=lambda: self.scheduler,
            broker=self.broker,
            pool=lambda: self.pool.stats if self.pool is not None else None,
            vm_limit=config.metrics_vm_limit,
        )

    def __repr__(self) -> str:
        return f"<Service hosts={len(self.uris)} db={self.config.database.display!r}>"

    def _stats(self) -> RunStats:
        return self.runner.stats if self.runner is not None else RunStats()

    def auth_for(self, host: str) -> Credentials | AuthCallback | None:
        """The auth source of ``host`` (``host:port``), for the action endpoints."""
        auth = self._auth
        if auth is None or not isinstance(auth, Mapping):
            return auth
        uri = self.uris[host]
        for key in (host, uri.hostname, *(t for t in self._targets if isinstance(t, str))):
            if key in auth:
                return auth[key]
        return None

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """Where the web server listens (after :meth:`start`)."""
        if self._web is None:
            return []
        found: list[tuple[str, int]] = []
        for address in self._web.addresses:
            if isinstance(address, tuple):
                found.append((str(address[0]), int(address[1])))
        return found

    async def start(self, *, serve_http: bool = True, schedule: bool = True) -> None:
        """Open the database (migrating it), load the latest state, listen, start the schedule."""
        from ._app import make_app

        stack = self._stack
        try:
            db = await open_database(self.config.database)
            self.store = Store(db, sample_interval=self._sample_interval)
            stack.push_async_callback(self.store.aclose)
            self.schema_version = await self.store.migrate()
            stored = await self.store.load_current()
            # Only the hosts configured now: a host dropped from the list stays in the history.
            self.hosts.update({k: v for k, v in stored.items() if k in self.uris})
            if self._collect_override is not None:
                collect = self._collect_override
            else:
                # The service owns the pool (the fleet's own limits), so /metrics can show
                # its counters through the public SessionPool.stats.
                self.pool = await stack.enter_async_context(
                    SessionPool(
                        limits=Limits(
                            per_host_connections=FLEET_PER_HOST_CONNECTIONS,
                            max_envelope_size=FLEET_MAX_ENVELOPE_SIZE,
                        )
                    )
                )
                self.fleet = await stack.enter_async_context(
                    Fleet(
                        list(self.uris.values()),
                        auth=self._auth,
                        concurrency=self.config.concurrency,
                        timeout=self.config.timeout,
                        pool=self.pool,
                    )
                )
                fleet = self.fleet

                async def collect() -> FleetResult[HostInventory]:
                    return await fleet.run(inventory_op)

            self.runner = InventoryRunner(
                collect,
                store=self.store,
                broker=self.broker,
                hosts=self.hosts,
                retention=self.config.retention,
            )
            self.scheduler = Scheduler(self.runner, interval=self.config.interval)
            if serve_http:
                app = make_app(self)
                self._web = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
                await self._web.setup()
                stack.push_async_callback(self._web.cleanup)
                host, port = self.config.listen
                if host not in ("127.0.0.1", "::1", "localhost") and self.config.token is None:
                    log.warning(
                        "listening on %s without a bearer token: anyone who can reach it can "
                        "read the inventory and start runs (--token-file guards POST requests)",
                        host,
                    )
                await web.TCPSite(self._web, host, port).start()
                log.info(
                    "listening on http://%s:%d/ (%d hosts, database %s)",
                    host, self.addresses[0][1] if self.addresses else port, len(self.uris),
                    self.config.database.display,
                )  # fmt: skip
            # The broker closes before the web server stops: open live feeds end promptly.
            stack.callback(self.broker.close)
            if schedule:
                self.scheduler.start()
        except BaseException:
            await self._stack.aclose()
            raise

    async def aclose(self, *, grace: float = 10.0) -> None:
        """Stop: finish the run in flight within ``grace`` seconds (else cancel it), end the
        live feeds, stop the web server, close the fleet's connections and the database."""
        if self.scheduler is not None:
            await self.scheduler.stop(grace=grace)
        await self._stack.aclose()
        log.info("stopped")
