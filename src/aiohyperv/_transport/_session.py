"""``WSManSession``: WS-Management operations against one host, over the pool's HTTP.

Every byte on the wire is built and parsed by the sans-IO :mod:`aiohyperv.wsman` core; this
module adds only what needs a clock or a socket: retries with backoff, the Pull loop, and
releasing enumeration contexts when a consumer stops early.
"""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ParamSpec, Self, TypeVar

from .._exceptions import (
    ConfigError,
    HyperVError,
    InvalidOperation,
    OperationTimedOut,
    ProtocolError,
    TransportError,
    TransportTimeout,
)
from .._lifecycle import AsyncClosing
from .._log import logger
from ..cim import EPR, CimInstance
from ..wsman import (
    Enumeration,
    EnumerationMode,
    Filter,
    MethodResult,
    RequestOptions,
    Response,
    build_create,
    build_delete,
    build_enumerate,
    build_get,
    build_identify,
    build_invoke,
    build_put,
    parse_epr,
    parse_get,
    parse_identify,
    parse_invoke,
    parse_response,
)
from ._errors import is_retryable
from ._http import SOAP_CONTENT_TYPE
from ._pool import SessionPool

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from .._auth import ClientAuth
    from .._config import ConnectionURI
    from .._credentials import Credentials
    from ..wsman import InvokeValue, Selectors
    from ._http import HostKey, HostTransport
    from ._options import Limits, RetryPolicy, Timeouts, TLSOptions

__all__ = ["Enumerator", "SessionStats", "WSManSession"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

DEFAULT_MAX_ELEMENTS = 100
# WS-Management over HTTPS with a client certificate (DSP0226 C.3.5; MS-WSMV 2.2.9.1).
_CERT_PROFILE = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"
_CONNECTION_AUTH = ("ntlm", "negotiate", "kerberos")
_SUPPORTED_AUTH = ("basic", "certificate", *_CONNECTION_AUTH)


@dataclass(slots=True)
class SessionStats:
    """Counters of one session (mutable; read them, don't write them).

    Attributes:
        requests: WS-Man requests answered (faults included).
        retried: Requests sent again after a connection reset or HTTP 503.
        faults: SOAP faults received.
        pulls: Pull requests sent.
        pull_timeouts: ``w:TimedOut`` answers to a Pull that were re-sent.
        releases: Enumeration contexts released early.
    """

    requests: int = 0
    retried: int = 0
    faults: int = 0
    pulls: int = 0
    pull_timeouts: int = 0
    releases: int = 0


def _backoff(policy: RetryPolicy, attempt: int) -> float:
    """Full-jitter exponential backoff (AWS architecture blog), capped."""
    bound = min(policy.max_backoff, policy.backoff * (2 ** (attempt - 1)))
    return random.uniform(0, bound)


class WSManSession(AsyncClosing):
    """WS-Management operations against one host.

    Get one from :meth:`SessionPool.session` to share connections and limits with other
    hosts, or create it directly (it then owns a private pool).  Either way use
    ``async with`` or call :meth:`aclose`.

    Authentication: Basic with credentials (the default when credentials are given and the
    URI names no method; HTTPS is strongly advised, plain HTTP logs a warning once per host);
    ``auth=certificate`` with a client certificate in :class:`TLSOptions`; or
    ``auth=ntlm|negotiate|kerberos``, which authenticate each connection once and, over plain
    HTTP, seal every message with WinRM message encryption (:mod:`aiohyperv._auth`).

    Args:
        uri: The host.
        credentials: User and password for Basic authentication.
        pool: The pool to run in; ``None`` creates a private one from the options below.
        limits: For a private pool.
        timeouts: For a private pool.
        tls: For a private pool.
        retry: For a private pool.
        max_elements: Default batch size of :meth:`enumerate`.

    Raises:
        ConfigError: Basic or NTLM without credentials, or certificate auth without HTTPS and
            a client certificate.
    """

    def __init__(
        self,
        uri: ConnectionURI,
        credentials: Credentials | None = None,
        *,
        pool: SessionPool | None = None,
        limits: Limits | None = None,
        timeouts: Timeouts | None = None,
        tls: TLSOptions | None = None,
        retry: RetryPolicy | None = None,
        max_elements: int = DEFAULT_MAX_ELEMENTS,
    ) -> None:
        self.uri = uri
        if pool is not None and (limits or timeouts or tls or retry):
            raise ConfigError(
                "limits, timeouts, tls and retry configure a private pool; "
                "with pool=..., set them on the SessionPool",
                host=uri.host_label,
            )
        self._owns_pool = pool is None
        self._pool = (
            pool
            if pool is not None
            else SessionPool(limits=limits, timeouts=timeouts, tls=tls, retry=retry)
        )
        self._pool._check_open(uri.host_label)
        self.label = uri.host_label
        self.max_elements = max_elements
        self.stats = SessionStats()
        #: Keep counting what finished enumerations received against the host's byte budget
        #: (``Limits.max_bytes_per_host``) until :meth:`release_retained` or :meth:`aclose`,
        #: for a caller that keeps every row of several enumerations (a fleet's per-host
        #: operation).  Off: an enumeration counts only while it runs.
        self.retain_enumerations = False
        self._retained = 0
        self._closed = False
        # Negotiate is what a stock Windows host accepts (Basic is off there by default).
        auth = uri.auth if uri.auth is not None else ("negotiate" if credentials else None)
        self.auth_method = auth
        self._client_auth: ClientAuth | None = None
        self._headers = self._auth_headers(auth, credentials)
        self._key: HostKey = self._pool.key_for(
            uri, auth, username=credentials.username if credentials is not None else None
        )
        limits = self._pool.limits
        self._max_size = limits.max_response_bytes
        try:
            self.options = RequestOptions(
                to=uri.endpoint,
                max_envelope_size=limits.max_envelope_size,
                operation_timeout=self._pool.timeouts.operation,
            )
        except ConfigError as exc:
            raise exc.with_host(self.label) from None

    def _auth_headers(self, auth: str | None, credentials: Credentials | None) -> dict[str, str]:
        headers = {"Content-Type": SOAP_CONTENT_TYPE}
        if auth is None:
            return headers
        if auth not in _SUPPORTED_AUTH:
            raise ConfigError(f"unknown auth method {auth!r}", host=self.label)
        if auth in _CONNECTION_AUTH:
            # NTLM/Negotiate/Kerberos authenticate connections, not requests: the host's
            # transport runs every request through ClientAuth (aiohyperv._auth).
            from .._auth import ClientAuth

            try:
                self._client_auth = ClientAuth(
                    auth,  # type: ignore[arg-type]  # narrowed by _CONNECTION_AUTH
                    hostname=self.uri.hostname,
                    https=self.uri.transport == "https",
                    credentials=credentials,
                )
            except ConfigError as exc:
                raise exc.with_host(self.label) from None
            return headers
        if auth == "certificate":
            if self.uri.transport != "https" or self._pool.tls.client_cert is None:
                raise ConfigError(
                    "auth=certificate needs HTTPS and TLSOptions(client_cert=...)",
                    host=self.label,
                )
            headers["Authorization"] = _CERT_PROFILE
            return headers
        if credentials is None:
            raise ConfigError("auth=basic needs credentials", host=self.label)
        token = f"{credentials.username}:{credentials.password}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(token).decode("ascii")
        if self.uri.transport == "http":
            self._pool.warn_plain_basic(self.label)
        return headers

    def __repr__(self) -> str:
        # Never the headers: they hold the Basic credentials.
        return (
            f"<WSManSession {self.label} auth={self.auth_method} "
            f"requests={self.stats.requests}{' closed' if self._closed else ''}>"
        )

    async def aclose(self) -> None:
        """Stop using the session; closes the pool only if the session created it."""
        self._closed = True
        self.release_retained()
        if self._owns_pool:
            await self._pool.aclose()

    def release_retained(self) -> None:
        """Give back the bytes kept counted by :attr:`retain_enumerations`."""
        retained, self._retained = self._retained, 0
        if retained:
            self._pool.release_bytes(self._key, retained)

    @property
    def pool(self) -> SessionPool:
        return self._pool

    @property
    def closed(self) -> bool:
        return self._closed

    # -- plumbing --------------------------------------------------------------------------

    def _host(self, *, cleanup: bool = False) -> HostTransport:
        if self._closed and not cleanup:
            raise InvalidOperation(f"the session for {self.label} is closed", host=self.label)
        return self._pool.host(self._key, cleanup=cleanup, auth=self._client_auth)

    def _parse(self, data: bytes) -> Response:
        try:
            return parse_response(data, max_size=self._max_size)
        except HyperVError as exc:
            self._count_fault(exc)
            exc.with_host(self.label)
            raise

    def _count_fault(self, exc: BaseException) -> None:
        if not isinstance(exc, TransportError):
            self.stats.faults += 1

    async def _post(
        self,
        build: Callable[[int], bytes],
        *,
        idempotent: bool,
        what: str,
        cleanup: bool = False,
        advances: bool = False,
    ) -> bytes:
        """Send a request (built afresh per attempt: new MessageID) and return the body.

        Idempotent requests are sent again on a reset connection or HTTP 503, with capped,
        jittered backoff; the others never are.  ``cleanup`` requests (Release) still go out
        after the session or pool started closing.  ``advances`` requests (Pull) are not sent
        again once part of their answer arrived (see :func:`is_retryable`).
        """
        policy = self._pool.retry
        attempt = 1
        while True:
            host = self._host(cleanup=cleanup)
            try:
                _status, data = await host.post(build(attempt), headers=self._headers)
            except TransportError as exc:
                if (
                    not idempotent
                    or attempt >= policy.attempts
                    or not is_retryable(exc, advances=advances)
                ):
                    raise
                delay = _backoff(policy, attempt)
                logger.debug(
                    "%s to %s failed (%s); retry %d/%d in %.3fs",
                    what,
                    self.label,
                    exc,
                    attempt,
                    policy.attempts - 1,
                    delay,
                )
                host.count_retry()
                self.stats.retried += 1
                await asyncio.sleep(delay)
                attempt += 1
                continue
            self.stats.requests += 1
            return data

    async def _call(
        self, build: Callable[[int], bytes], *, idempotent: bool, what: str
    ) -> Response:
        return self._parse(await self._post(build, idempotent=idempotent, what=what))

    # -- operations ------------------------------------------------------------------------

    async def identify(self) -> dict[str, str]:
        """WS-Management Identify: protocol version, vendor and product version of the host.

        Raises:
            TransportError: HTTP-level failure (see :class:`HostTransport`).
            WSManFault: The server answered with a fault.
            ProtocolError: The answer is not an IdentifyResponse.
        """
        resp = await self._call(lambda _: build_identify(), idempotent=True, what="Identify")
        return self._with_host(parse_identify, resp)

    async def get(self, resource_uri: str, selectors: Selectors | None = None) -> CimInstance:
        """WS-Transfer Get of one instance (retried on connection reset and 503).

        Args:
            resource_uri: The class resource URI.
            selectors: Key properties naming the instance (none for a singleton).
        """
        resp = await self._call(
            lambda _: build_get(resource_uri, options=self.options, selectors=selectors),
            idempotent=True,
            what="Get",
        )
        return self._with_host(parse_get, resp)

    async def put(
        self, resource_uri: str, instance: CimInstance, *, selectors: Selectors | None = None
    ) -> CimInstance | None:
        """WS-Transfer Put (never retried). Returns the instance the server echoes, if any."""
        resp = await self._call(
            lambda _: build_put(resource_uri, instance, options=self.options, selectors=selectors),
            idempotent=False,
            what="Put",
        )
        return None if resp.body is None else self._with_host(parse_get, resp)

    async def create(self, resource_uri: str, instance: CimInstance) -> EPR | None:
        """WS-Transfer Create (never retried). Returns the new resource's EPR, if sent."""
        resp = await self._call(
            lambda _: build_create(resource_uri, instance, options=self.options),
            idempotent=False,
            what="Create",
        )
        if resp.body is None:
            return None
        return self._with_host(parse_epr, resp.body)

    async def delete(self, resource_uri: str, selectors: Selectors | None = None) -> None:
        """WS-Transfer Delete (never retried)."""
        await self._call(
            lambda _: build_delete(resource_uri, options=self.options, selectors=selectors),
            idempotent=False,
            what="Delete",
        )

    async def invoke(
        self,
        resource_uri: str,
        method: str,
        *,
        selectors: Selectors | None = None,
        params: Mapping[str, InvokeValue] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109  # a deadline for the whole call
    ) -> MethodResult:
        """Invoke a WMI method (never retried: the host may already have acted).

        Args:
            timeout: Seconds the whole call may take (None: only the pool's ``Timeouts``).
                Past it :class:`TransportTimeout` is raised; the host may still have acted.

        Returns:
            ``ReturnValue`` and out parameters; a ``Job`` EPR when the method started a job.
            Interpreting the return value is the caller's business.
        """
        resp = await self._within(
            timeout,
            method,
            self._call(
                lambda _: build_invoke(
                    resource_uri, method, options=self.options, selectors=selectors, params=params
                ),
                idempotent=False,
                what=method,
            ),
        )
        return self._with_host(parse_invoke, resp, method)

    async def _within(self, seconds: float | None, what: str, aw: Awaitable[_T]) -> _T:
        """Await ``aw`` within ``seconds``; past it, raise :class:`TransportTimeout`."""
        if seconds is None:
            return await aw
        deadline = asyncio.timeout(seconds)
        try:
            async with deadline:
                return await aw
        except TimeoutError:
            if not deadline.expired():
                raise  # an inner timeout (the pool's), with its own message
            raise TransportTimeout(
                f"{what} on {self.label} did not finish within its {seconds:g} s deadline",
                host=self.label,
            ) from None

    def enumerate(
        self,
        resource_uri: str,
        *,
        filter: Filter | None = None,
        mode: EnumerationMode = EnumerationMode.OBJECTS,
        max_elements: int | None = None,
        selectors: Selectors | None = None,
        max_pulls: int | None = None,
        timeout: float | None = None,  # a deadline for the whole enumeration
    ) -> Enumerator:
        """Stream a WS-Enumeration: Enumerate (optimized), then Pull until EndOfSequence.

        Use it as::

            async with session.enumerate(uri, filter=Filter.wql(q)) as items:
                async for item in items:
                    ...

        The ``async with`` releases the server's enumeration context as soon as the block
        exits early (``break``, an exception, cancellation).  A bare ``async for`` also works;
        when it stops early, the context is released once the iterator is dropped, by a task
        the pool owns.  At most one batch (``max_elements`` items) is held in memory.

        A server cannot make it hold more: an answer with more items than asked for, more than
        ``Limits.max_rows_per_query`` items in all, or answers that pass the host's
        ``Limits.max_bytes_per_host`` (or the pool's ``max_bytes_total``) while the
        enumeration runs end it with ``ProtocolError``.

        Args:
            resource_uri: The class (or ``*``) resource URI.
            filter: WQL, selector or association filter.
            mode: Objects, EPRs, or both.
            max_elements: Items per batch; defaults to the session's ``max_elements``.
            selectors: Selectors for the Enumerate request.
            max_pulls: Give up (``ProtocolError``) after this many Pulls; defaults to the
                pool's ``Limits.max_pulls``, so a server that never says EndOfSequence cannot
                keep a consumer pulling forever.
            timeout: Seconds the whole enumeration may take from its first request, the
                consumer's own time included (None: no overall deadline).  A server answering
                every Pull with ``w:TimedOut`` after its OperationTimeout is otherwise asked
                again ``RetryPolicy.pull_timeouts`` times.  Past it the context is released
                and :class:`TransportTimeout` is raised.
        """
        enum = Enumeration(
            resource_uri,
            options=self.options,
            filter=filter,
            mode=mode,
            max_elements=max_elements or self.max_elements,
            max_pulls=max_pulls if max_pulls is not None else self._pool.limits.max_pulls,
            selectors=selectors,
            max_size=self._max_size,
            max_rows=self._pool.limits.max_rows_per_query,
        )
        return Enumerator(self, enum, timeout=timeout)

    def _with_host(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return fn(*args, **kwargs)
        except HyperVError as exc:
            exc.with_host(self.label)
            raise


class Enumerator(AsyncIterator[CimInstance | EPR], AsyncClosing):
    """The async iterator :meth:`WSManSession.enumerate` returns; see there.

    Attributes:
        buffered: Items received and not yet handed out (at most one batch).
    """

    def __init__(
        self,
        session: WSManSession,
        enum: Enumeration,
        *,
        timeout: float | None = None,  # see WSManSession.enumerate
    ) -> None:
        if timeout is not None and not timeout > 0:
            raise ConfigError(f"timeout must be positive, not {timeout!r}", host=session.label)
        self._session = session
        self._enum = enum
        self._timeout = timeout
        self._deadline: float | None = None
        self._batch: list[CimInstance | EPR] = []
        self._index = 0
        self._started = False
        self._finished = False
        self._release_task: asyncio.Task[None] | None = None
        self._held = 0  # response bytes counted against the pool's budgets

    def __repr__(self) -> str:
        return f"<Enumerator {self._session.label} {self._enum!r}>"

    @property
    def buffered(self) -> int:
        return len(self._batch) - self._index

    @property
    def context_open(self) -> bool:
        """Whether the server holds an enumeration context for us."""
        return self._enum.context is not None and not self._enum.done

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> CimInstance | EPR:
        while True:
            if self._index < len(self._batch):
                item = self._batch[self._index]
                self._index += 1
                return item
            if self._finished or (self._started and self._enum.done):
                self._finished = True
                self._release_held()
                raise StopAsyncIteration
            # Drop the consumed batch before waiting for the next: memory stays at one batch.
            self._batch = []
            self._index = 0
            try:
                self._batch = await self._fetch_in_time()
            except BaseException:
                self._finished = True
                await self.aclose()
                raise

    async def _fetch_in_time(self) -> list[CimInstance | EPR]:
        if self._timeout is None:
            return await self._fetch()
        if self._deadline is None:
            self._deadline = asyncio.get_running_loop().time() + self._timeout
        deadline = asyncio.timeout_at(self._deadline)
        try:
            async with deadline:
                return await self._fetch()
        except TimeoutError:
            if not deadline.expired():
                raise  # an inner timeout (the pool's), with its own message
            label = self._session.label
            raise TransportTimeout(
                f"enumeration of {self._enum.resource_uri.rpartition('/')[2]} on {label} did "
                f"not finish within its {self._timeout:g} s deadline",
                host=label,
            ) from None

    async def _fetch(self) -> list[CimInstance | EPR]:
        session = self._session
        enum = self._enum
        if not self._started:
            self._started = True
            first = enum.start()

            def build_enumerate_request(attempt: int) -> bytes:
                if attempt == 1:
                    return first
                return build_enumerate(
                    enum.resource_uri,
                    options=enum.options,
                    filter=enum.filter,
                    mode=enum.mode,
                    optimize=enum.optimize,
                    max_elements=enum.max_elements,
                    selectors=enum.selectors,
                )

            data = await session._post(build_enumerate_request, idempotent=True, what="Enumerate")
            return self._receive(data)
        timeouts = 0
        while not enum.done:
            session.stats.pulls += 1
            data = await session._post(
                self._pull_builder(), idempotent=True, what="Pull", advances=True
            )
            try:
                return self._receive(data)
            except OperationTimedOut:
                # "Nothing yet", not "failed" (MS-WSMV 3.1.4.8): ask again, up to a limit.
                timeouts += 1
                if timeouts > session._pool.retry.pull_timeouts:
                    raise
                session.stats.pull_timeouts += 1
                logger.debug("Pull from %s timed out on the server; pulling again", session.label)
        return []

    def _pull_builder(self) -> Callable[[int], bytes]:
        """Build the Pull lazily, a fresh one (new MessageID) for each retry of it."""
        pulls: list[bytes] = []

        def build(attempt: int) -> bytes:
            while len(pulls) < attempt:
                # "did not end after N pulls" is raised here, outside any HTTP exchange.
                request = self._session._with_host(self._enum.next_request)
                if request is None:
                    raise ProtocolError("the enumeration ended while a Pull was being retried")
                pulls.append(request)
            return pulls[attempt - 1]

        return build

    def _release_held(self) -> None:
        held, self._held = self._held, 0
        if not held:
            return
        session = self._session
        if session.retain_enumerations and not session.closed:
            session._retained += held  # the caller keeps the rows: so does the count
        else:
            session._pool.release_bytes(session._key, held)

    def _receive(self, data: bytes) -> list[CimInstance | EPR]:
        session = self._session
        try:
            session._pool.hold_bytes(session._key, len(data))
            self._held += len(data)
            return self._enum.receive(data)
        except HyperVError as exc:
            self._session._count_fault(exc)
            exc.with_host(self._session.label)
            raise

    async def aclose(self) -> None:
        """Stop: release the server's enumeration context if one is open.

        The Release runs in a task the pool owns, and this waits for it under
        ``asyncio.shield``: if the caller is cancelled meanwhile, the Release still finishes
        (and the pool's ``aclose`` waits for it).  Errors from the Release are logged, not
        raised: the server expires abandoned contexts anyway.
        """
        self._finished = True
        self._batch = []
        self._index = 0
        self._release_held()
        task = self._start_release()
        if task is not None:
            await asyncio.shield(task)

    def _start_release(self) -> asyncio.Task[None] | None:
        if self._release_task is not None:
            return self._release_task
        request = self._enum.release_request()
        if request is None:
            return None
        session = self._session
        if session._pool.closed:
            return None
        self._release_task = session._pool.spawn(self._release(request))
        return self._release_task

    async def _release(self, request: bytes) -> None:
        session = self._session
        try:
            data = await session._post(
                lambda _: request, idempotent=False, what="Release", cleanup=True
            )
            session._parse(data)
            session.stats.releases += 1
        except HyperVError as exc:
            logger.debug("Release of an enumeration on %s failed: %s", session.label, exc)

    def __del__(self) -> None:
        # A bare `async for` that stopped early leaves the context open; release it as
        # Python releases an abandoned async generator: in a task on the running loop.
        try:
            self._release_held()
            if self._release_task is None and self.context_open:
                asyncio.get_running_loop()
                self._start_release()
        except Exception:  # never raise from __del__
            return
