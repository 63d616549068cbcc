"""The accepting side of WinRM authentication, as the simulated hosts need it.

Basic, NTLM through Negotiate and Kerberos (with a keytab) with WinRM message encryption, and
client certificates mapped to users (:class:`ServerSecurityContext`, :class:`UserTable`,
:func:`map_certificate`, :class:`KerberosService`), plus the aiohttp middleware that applies
them to ``POST /wsman`` (:func:`auth_middleware`).  Test infrastructure: the client library
never imports it.
"""

from __future__ import annotations

from ._acceptor import (
    AuthUser,
    CertificateMapping,
    ServerSecurityContext,
    UserTable,
    map_certificate,
)
from ._kerberos import KerberosService
from ._middleware import (
    AUTH_INFO,
    AuthInfo,
    ServerAuthPolicy,
    UserResolver,
    auth_middleware,
    ntlm_middleware,
    request_body,
    seal_body,
)

__all__ = [
    "AUTH_INFO",
    "AuthInfo",
    "AuthUser",
    "CertificateMapping",
    "KerberosService",
    "ServerAuthPolicy",
    "ServerSecurityContext",
    "UserResolver",
    "UserTable",
    "auth_middleware",
    "map_certificate",
    "ntlm_middleware",
    "request_body",
    "seal_body",
]
