"""Client authentication beyond Basic: NTLM/Negotiate/Kerberos with WinRM message encryption,
and client certificates.

Sans-IO pieces: :class:`ClientSecurityContext`, :func:`encrypt_message`/:func:`decrypt_message`
(the ``multipart/encrypted`` framing both peers share), certificate helpers.  aiohttp glue:
:class:`ClientAuth` + :class:`AuthClientRequest`.  The accepting side (the simulator's) lives in
``aiohyperv.simulator._auth`` and is never imported from here.
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

# pyspnego logs raw NTLM/Kerberos tokens at DEBUG; never let them reach an application's logs.
_install_token_redaction()

__all__ = [
    "CERTIFICATE_AUTHORIZATION",
    "DEFAULT_AUTH_METHOD",
    "KERBEROS_PROTOCOL",
    "SOAP_CONTENT_TYPE",
    "SPNEGO_PROTOCOL",
    "AuthClientRequest",
    "AuthResponse",
    "AuthStats",
    "CertificateIdentity",
    "ClientAuth",
    "ClientSecurityContext",
    "HandshakeState",
    "SpnegoProtocol",
    "certificate_identity",
    "channel_binding_data",
    "decrypt_message",
    "default_auth_method",
    "encrypt_message",
    "encrypted_content_type",
    "is_encrypted_content_type",
]
