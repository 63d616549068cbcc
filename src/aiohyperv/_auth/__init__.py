"""Authentication beyond Basic: NTLM/Negotiate/Kerberos with WinRM message encryption,
and client certificates -- for the transport (client side) and the simulator (server side).

Sans-IO pieces: :class:`ClientSecurityContext`, :class:`ServerSecurityContext`,
:func:`encrypt_message`/:func:`decrypt_message`, :class:`UserTable`, certificate helpers.
aiohttp glue: :class:`ClientAuth` + :class:`AuthClientRequest` (client) and
:func:`auth_middleware`/:func:`ntlm_middleware` (server).
"""

from __future__ import annotations

from ._aiohttp_client import (
    DEFAULT_AUTH_METHOD,
    AuthClientRequest,
    AuthResponse,
    AuthStats,
    ClientAuth,
    default_auth_method,
)
from ._aiohttp_server import (
    AUTH_INFO,
    AuthInfo,
    ServerAuthPolicy,
    UserResolver,
    auth_middleware,
    ntlm_middleware,
    seal_body,
)
from ._certs import CertificateIdentity, certificate_identity, channel_binding_data
from ._client import ClientSecurityContext, HandshakeState, SpnegoProtocol
from ._encryption import (
    KERBEROS_PROTOCOL,
    SOAP_CONTENT_TYPE,
    SPNEGO_PROTOCOL,
    decrypt_message,
    encrypt_message,
    encrypted_content_type,
    is_encrypted_content_type,
)
from ._headers import CERTIFICATE_AUTHORIZATION
from ._redact import install_token_redaction as _install_token_redaction
from ._server import (
    AuthUser,
    CertificateMapping,
    ServerSecurityContext,
    UserTable,
    map_certificate,
)

# pyspnego logs raw NTLM/Kerberos tokens at DEBUG; never let them reach an application's logs.
_install_token_redaction()

__all__ = [
    "AUTH_INFO",
    "CERTIFICATE_AUTHORIZATION",
    "DEFAULT_AUTH_METHOD",
    "KERBEROS_PROTOCOL",
    "SOAP_CONTENT_TYPE",
    "SPNEGO_PROTOCOL",
    "AuthClientRequest",
    "AuthInfo",
    "AuthResponse",
    "AuthStats",
    "AuthUser",
    "CertificateIdentity",
    "CertificateMapping",
    "ClientAuth",
    "ClientSecurityContext",
    "HandshakeState",
    "ServerAuthPolicy",
    "ServerSecurityContext",
    "SpnegoProtocol",
    "UserResolver",
    "UserTable",
    "auth_middleware",
    "certificate_identity",
    "channel_binding_data",
    "decrypt_message",
    "default_auth_method",
    "encrypt_message",
    "encrypted_content_type",
    "is_encrypted_content_type",
    "map_certificate",
    "ntlm_middleware",
    "seal_body",
]
