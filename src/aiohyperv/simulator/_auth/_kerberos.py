"""The accepting side of Kerberos, for simulated hosts that have a keytab.

A Windows host accepts Kerberos through its computer account's keys; a simulated host gets a
keytab holding ``HTTP/<its name>`` instead (:class:`KerberosService`).  The acceptor is the
system's GSSAPI through python-gssapi: the keytab is handed to it with the credential store
extension (``gss_acquire_cred_from``), so no process-wide ``KRB5_KTNAME`` is read or set and
hosts with different keytabs can share a process.  It takes raw Kerberos tokens (the
``Kerberos`` HTTP scheme) and SPNEGO-wrapped ones (``Negotiate``), checks the TLS channel
binding when the listener has one, and seals with ``gss_wrap_iov`` as WinRM does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohyperv._auth._kerberos import WinRMWrapped, import_gssapi, unwrap_winrm, wrap_winrm

if TYPE_CHECKING:
    from ._acceptor import AuthUser, UserTable

__all__ = ["KerberosAcceptor", "KerberosService", "kerberos_user"]


@dataclass(frozen=True, slots=True, kw_only=True)
class KerberosService:
    """How a listener accepts Kerberos.

    Attributes:
        keytab: Path of the keytab with the service's keys.
        principal: The service principal clients must ask for (``HTTP/host@REALM``); None
            accepts any principal in the keytab.
    """

    keytab: str
    principal: str | None = None


@functools.lru_cache(maxsize=256)
def _acceptor_credentials(service: KerberosService) -> Any:
    gssapi = import_gssapi()
    name = (
        gssapi.Name(service.principal, gssapi.NameType.kerberos_principal)
        if service.principal
        else None
    )
    return gssapi.Credentials(name=name, usage="accept", store={"keytab": service.keytab})


class KerberosAcceptor:
    """One connection's Kerberos (or SPNEGO/Kerberos) acceptor, pyspnego-shaped.

    Raises:
        ConfigError: python-gssapi is not installed.
    """

    __slots__ = ("_context", "_gssapi")

    def __init__(self, service: KerberosService, *, channel_bindings: bytes | None) -> None:
        gssapi = import_gssapi()
        self._gssapi = gssapi
        bindings = (
            gssapi.raw.ChannelBindings(application_data=channel_bindings)
            if channel_bindings
            else None
        )
        self._context = gssapi.SecurityContext(
            creds=_acceptor_credentials(service), usage="accept", channel_bindings=bindings
        )

    @property
    def complete(self) -> bool:
        try:
            return bool(self._context.complete)
        except self._gssapi.exceptions.GSSError:
            return False

    @property
    def client_principal(self) -> str | None:
        name = self._context.initiator_name if self._context.complete else None
        return str(name) if name is not None else None

    def step(self, in_token: bytes, /) -> bytes | None:
        """The answer to the client's token.

        Raises:
            gssapi.exceptions.GSSError: The token is refused (bad ticket, wrong key, channel
                bindings that do not match); python-gssapi keeps such an error, with the error
                token it produced, until the context is asked whether it is complete.
        """
        out = self._context.step(in_token)
        _ = self._context.complete  # raises the error the step kept, if any
        return bytes(out) if out else None

    def wrap_winrm(self, data: bytes, /) -> WinRMWrapped:
        return wrap_winrm(self._context, data)

    def unwrap_winrm(self, header: bytes, data: bytes, /) -> bytes:
        return unwrap_winrm(self._context, header, data)


def kerberos_user(principal: str, users: UserTable) -> AuthUser | None:
    """The account a Kerberos principal ``user@REALM`` logs on as, if the host has it.

    A domain account ``DOMAIN\\user`` matches when ``DOMAIN`` is the realm or its first label
    (``CORP`` for ``CORP.EXAMPLE.COM``); a local account ``user`` matches any realm's ``user``.
    """
    name, _, realm = principal.rpartition("@")
    if not name:
        name, realm = principal, ""
    candidates = [f"{realm}\\{name}", f"{realm.split('.')[0]}\\{name}"] if realm else []
    candidates.append(name)
    for candidate in candidates:
        user = users.lookup(candidate)
        if user is not None:
            return user
    return None
