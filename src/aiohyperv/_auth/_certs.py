"""X.509 helpers: TLS channel bindings and client-certificate identities, sans-IO.

``cryptography`` comes with pyspnego, which aiohyperv already requires.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID, ObjectIdentifier

__all__ = [
    "UPN_OID",
    "CertificateIdentity",
    "certificate_identity",
    "channel_binding_data",
]

# Microsoft's User Principal Name in a subjectAltName otherName (szOID_NT_PRINCIPAL_NAME).
UPN_OID = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")


def channel_binding_data(certificate_der: bytes) -> bytes:
    """RFC 5929 ``tls-server-end-point`` application data for a server certificate.

    The hash is the certificate's own signature hash, except that MD5 and SHA-1 are replaced
    by SHA-256 (RFC 5929 4.1).  This is what Windows checks when Extended Protection
    (``CbtHardeningLevel``) is on.
    """
    cert = x509.load_der_x509_certificate(certificate_der)
    algorithm: hashes.HashAlgorithm
    try:
        sig_hash = cert.signature_hash_algorithm
    except Exception:  # unsupported algorithm: cryptography raises UnsupportedAlgorithm
        sig_hash = None
    if sig_hash is None or isinstance(sig_hash, hashes.MD5 | hashes.SHA1):
        algorithm = hashes.SHA256()
    else:
        algorithm = sig_hash
    digest = hashes.Hash(algorithm)
    digest.update(certificate_der)
    return b"tls-server-end-point:" + digest.finalize()


def _decode_upn(value: bytes) -> str | None:
    # The otherName value is a DER UTF8String: tag 0x0C, a length, the text.
    if len(value) < 2 or value[0] != 0x0C:
        return None
    length = value[1]
    offset = 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 2 or len(value) < 2 + count:
            return None
        length = int.from_bytes(value[2 : 2 + count], "big")
        offset = 2 + count
    text = value[offset : offset + length]
    if len(text) != length:
        return None
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateIdentity:
    """The names a client certificate vouches for.

    Attributes:
        upns: User principal names from subjectAltName otherName entries (what Windows maps).
        emails: rfc822Name subjectAltName entries.
        common_name: The subject CN, if any.
    """

    upns: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    common_name: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Every name in order of preference: UPNs, then e-mail addresses, then the CN."""
        cn = (self.common_name,) if self.common_name else ()
        return self.upns + self.emails + cn


def certificate_identity(certificate_der: bytes) -> CertificateIdentity:
    """Read the UPNs, e-mail addresses and CN of a DER client certificate.

    Raises:
        ValueError: The bytes are not a certificate.
    """
    cert = x509.load_der_x509_certificate(certificate_der)
    upns: list[str] = []
    emails: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        pass
    else:
        for other in san.get_values_for_type(x509.OtherName):
            if other.type_id == UPN_OID:
                upn = _decode_upn(other.value)
                if upn:
                    upns.append(upn)
        emails.extend(san.get_values_for_type(x509.RFC822Name))
    cn_attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    cn = cn_attrs[0].value if cn_attrs else None
    return CertificateIdentity(
        upns=tuple(upns),
        emails=tuple(emails),
        common_name=cn if isinstance(cn, str) else None,
    )
