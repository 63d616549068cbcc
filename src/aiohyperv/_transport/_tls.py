"""One ``ssl.SSLContext`` per distinct TLS setting, shared by every host in the process.

Building a context loads the CA store (milliseconds and about a megabyte each); a fleet of
thousands of hosts with the same settings must pay that once, not once per host.
"""

from __future__ import annotations

import functools
import ssl
from typing import TYPE_CHECKING

from .._exceptions import ConfigError

if TYPE_CHECKING:
    from ._options import TLSOptions

__all__ = ["ssl_context"]


@functools.lru_cache(maxsize=64)
def ssl_context(options: TLSOptions) -> ssl.SSLContext:
    """Return the shared SSL context for ``options``, building it on first use.

    Raises:
        ConfigError: A CA file/directory or the client certificate cannot be loaded.
    """
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if options.verify:
        if options.ca_file is not None or options.ca_dir is not None:
            # An explicit CA replaces the system store rather than adding to it: a test CA or
            # a company CA should not also trust every public CA.
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            try:
                ctx.load_verify_locations(cafile=options.ca_file, capath=options.ca_dir)
            except (OSError, ssl.SSLError) as exc:
                where = options.ca_file or options.ca_dir
                raise ConfigError(f"cannot load CA certificates from {where}: {exc}") from None
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if options.client_cert is not None:
        try:
            ctx.load_cert_chain(options.client_cert, options.client_key)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"cannot load client certificate {options.client_cert}: {exc}"
            ) from None
    return ctx
