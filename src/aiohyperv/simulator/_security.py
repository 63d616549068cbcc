"""How a simulated host authenticates: one WinRM-like auth middleware per listener policy.

The protocol work (the NTLM/SPNEGO acceptor, WinRM message encryption, certificate mapping) is
:mod:`aiohyperv._auth`'s; this module only turns each host's :class:`HostSpec` into what that
middleware needs:

* a :class:`UserTable` per host, built on first use;
* a :class:`ServerAuthPolicy` per host (Basic and plaintext knobs, certificate mappings, the
  listener's TLS certificate for channel binding);
* one middleware per distinct policy.  The middleware keeps each TCP connection's security
  context, and a connection always reaches the same host (hosts are told apart by the socket
  a request arrived on), so hosts with equal policies can share one middleware.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web

from aiohyperv.simulator._auth import (
    AuthUser,
    KerberosService,
    ServerAuthPolicy,
    UserTable,
    auth_middleware,
)

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler, Middleware

    from aiohyperv.simulator._host import SimulatedHost

__all__ = ["HOST_KEY", "HostAuth", "host_policy", "host_users"]

logger = logging.getLogger("aiohyperv.simulator")

#: The simulated host a request is addressed to (set before authentication).
HOST_KEY: web.RequestKey[SimulatedHost] = web.RequestKey("aiohyperv_simulator_host")


def host_users(host: SimulatedHost) -> UserTable:
    """The accounts ``host`` accepts: its one account, as Windows names a local account.

    A local account logs on as ``user``, ``.\\user`` or ``COMPUTERNAME\\user`` (the table
    accepts ``.`` for an empty domain); the DNS short name works as the domain too when it is
    longer than the 15-character NetBIOS name.  ``DOMAIN\\user`` in the spec makes it a
    domain account, accepted with that domain only.
    """
    spec = host.spec
    domain, sep, name = spec.username.rpartition("\\")
    if sep:
        return UserTable([AuthUser(username=name, password=spec.password, domain=domain)])
    users = [
        AuthUser(username=name, password=spec.password),
        AuthUser(username=name, password=spec.password, domain=host.computer_name),
    ]
    if host.dns_name.upper() != host.computer_name:
        users.append(AuthUser(username=name, password=spec.password, domain=host.dns_name))
    return UserTable(users)


def host_policy(host: SimulatedHost, *, server_certificate: bytes | None) -> ServerAuthPolicy:
    """What ``host``'s listener accepts.

    Args:
        host: the host (its spec holds the knobs).
        server_certificate: DER of the listener's TLS certificate (HTTPS): NTLM over HTTPS then
            needs a matching channel binding token, as with Windows' Extended Protection.
    """
    spec = host.spec
    return ServerAuthPolicy(
        allow_basic=spec.allow_basic,
        allow_unencrypted=spec.allow_unencrypted,
        certificates=tuple(spec.client_certificates),
        server_certificate=server_certificate,
        kerberos=(
            KerberosService(keytab=spec.kerberos_keytab, principal=spec.service_principal)
            if spec.kerberos_keytab
            else None
        ),
    )


def challenge_headers(host: SimulatedHost) -> list[tuple[str, str]]:
    """The ``WWW-Authenticate`` headers of a 401 from ``host``, in Windows' order."""
    headers = [("WWW-Authenticate", "Negotiate")]
    if host.spec.kerberos_keytab:
        headers.append(("WWW-Authenticate", "Kerberos"))
    if host.spec.allow_basic:
        headers.append(("WWW-Authenticate", 'Basic realm="WSMAN"'))
    return headers


class HostAuth:
    """Authentication state of one simulator application: user tables and middlewares.

    Args:
        server_certificate: DER of the TLS certificate the application is served with, if any.
    """

    def __init__(self, *, server_certificate: bytes | None = None) -> None:
        self.server_certificate = server_certificate
        # id(host) -> (host, its table, its middleware); the host is kept to check identity.
        self._hosts: dict[int, tuple[SimulatedHost, UserTable | None, Middleware]] = {}
        self._by_policy: dict[ServerAuthPolicy, Middleware] = {}

    def __repr__(self) -> str:
        return f"<HostAuth hosts={len(self._hosts)} policies={len(self._by_policy)}>"

    def _entry(self, host: SimulatedHost) -> tuple[SimulatedHost, UserTable | None, Middleware]:
        entry = self._hosts.get(id(host))
        if entry is None or entry[0] is not host:
            policy = host_policy(host, server_certificate=self.server_certificate)
            middleware = self._by_policy.get(policy)
            if middleware is None:
                middleware = auth_middleware(self._resolve, policy)
                self._by_policy[policy] = middleware
            entry = (host, None, middleware)
            self._hosts[id(host)] = entry
        return entry

    def users(self, host: SimulatedHost) -> UserTable:
        """``host``'s user table, built on first use."""
        _host, table, middleware = self._entry(host)
        if table is None:
            table = host_users(host)
            self._hosts[id(host)] = (host, table, middleware)
        return table

    def _resolve(self, request: web.Request) -> UserTable | None:
        host = request.get(HOST_KEY)
        return self.users(host) if host is not None else None

    def middleware_for(self, host: SimulatedHost) -> Middleware:
        """The auth middleware for ``host``'s policy (shared by hosts with the same one)."""
        return self._entry(host)[2]

    async def handle(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Authenticate ``request`` (addressed to ``request[HOST_KEY]``), then run ``handler``."""
        return await self.middleware_for(request[HOST_KEY])(request, handler)

    def close(self) -> None:
        """Forget every host's user table and middleware."""
        self._hosts.clear()
