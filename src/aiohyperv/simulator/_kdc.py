"""A throwaway MIT Kerberos realm: its own KDC on a loopback port, principals, keytab.

For the tests and benchmarks of Kerberos against simulated hosts.  Everything lives in one
directory the caller gives (``krb5.conf``, ``kdc.conf``, the database, the keytab, credential
caches); ``krb5kdc -n`` runs in the foreground on 127.0.0.1 and is stopped by
:meth:`Realm.stop`.  Nothing outside the directory is read or written: the programs get
``KRB5_CONFIG`` and ``KRB5_KDC_PROFILE`` pointing into it, and so must the process that uses
the realm (``os.environ``, or ``monkeypatch.setenv`` in a test).

When the MIT KDC programs or python-gssapi are missing, :func:`unavailable` says why.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Realm", "start_realm", "unavailable"]

REALM = "AIOHYPERV.TEST"
_PROGRAMS = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit", "klist")
_SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")


def _which(program: str) -> str | None:
    path = os.environ.get("PATH", "") + os.pathsep + os.pathsep.join(_SBIN)
    return shutil.which(program, path=path)


def unavailable() -> str | None:
    """Why a test realm cannot be made on this machine, or None when it can."""
    missing = [p for p in _PROGRAMS if _which(p) is None]
    if missing:
        return (
            f"MIT Kerberos KDC programs not installed ({', '.join(missing)}); on Debian: "
            "apt-get install krb5-kdc krb5-admin-server krb5-user libkrb5-dev"
        )
    if importlib.util.find_spec("gssapi") is None:
        return "python-gssapi not installed: pip install 'aiohyperv[kerberos]'"
    return None


def _free_port() -> int:
    # Bound and released: the KDC binds it a moment later (UDP and TCP on the same number).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        tcp.bind(("127.0.0.1", 0))
        return int(tcp.getsockname()[1])


@dataclass
class Realm:
    """A running test realm.

    Attributes:
        directory: Where its files live.
        port: The KDC's port on 127.0.0.1 (TCP and UDP).
        env: Environment for Kerberos programs and for the in-process library (``KRB5_CONFIG``
            and ``KRB5_KDC_PROFILE``; no credential cache: tests choose their own).
        keytab: The service keytab (every ``HTTP/...`` principal added with :meth:`add_service`).
    """

    directory: Path
    port: int
    env: dict[str, str]
    keytab: Path
    realm: str = REALM
    _kdc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def kadmin(self, query: str) -> str:
        """Run one ``kadmin.local`` query and return its output."""
        result = subprocess.run(
            [_tool("kadmin.local"), "-r", self.realm, "-q", query],
            env=self.env,
            capture_output=True,
            check=True,
            timeout=60,
        )
        return result.stdout.decode(errors="replace")

    def add_user(self, name: str, password: str, *, max_life: str | None = None) -> str:
        """Create ``name@REALM`` with ``password``; returns the principal."""
        life = f' -maxlife "{max_life}"' if max_life else ""
        # Pre-authentication required, as Active Directory does by default.
        self.kadmin(f"addprinc -pw {password}{life} +requires_preauth {name}@{self.realm}")
        return f"{name}@{self.realm}"

    def add_services(self, hostnames: list[str], service: str = "HTTP") -> None:
        """Create ``HTTP/<host>@REALM`` for each host, with random keys, into :attr:`keytab`."""
        # One kadmin.local run for many principals: a fleet needs hundreds.
        script = "".join(
            f"addprinc -randkey {service}/{h}@{self.realm}\n"
            f"ktadd -k {self.keytab} -norandkey {service}/{h}@{self.realm}\n"
            for h in hostnames
        )
        subprocess.run(
            [_tool("kadmin.local"), "-r", self.realm],
            input=script.encode(),
            env=self.env,
            capture_output=True,
            check=True,
            timeout=300,
        )

    def kinit(
        self, principal: str, password: str, ccache: Path, *, lifetime: str | None = None
    ) -> None:
        """``kinit`` as a user would, into ``ccache``."""
        args = [_tool("kinit"), "-c", f"FILE:{ccache}"]
        if lifetime:
            args += ["-l", lifetime]
        subprocess.run(
            [*args, principal],
            input=password.encode() + b"\n",
            env=self.env,
            capture_output=True,
            check=True,
            timeout=60,
        )

    def stop(self) -> None:
        """Stop the KDC (the realm's files stay until the directory is removed)."""
        kdc, self._kdc = self._kdc, None
        if kdc is not None and kdc.poll() is None:
            kdc.terminate()
            try:
                kdc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                kdc.kill()
                kdc.wait()

    @property
    def running(self) -> bool:
        return self._kdc is not None and self._kdc.poll() is None


def _tool(program: str) -> str:
    found = _which(program)
    if found is None:
        raise FileNotFoundError(program)
    return found


def _write_config(directory: Path, port: int) -> dict[str, str]:
    """Write ``krb5.conf`` and ``kdc.conf`` for a KDC on ``port``; the programs' environment."""
    krb5_conf = directory / "krb5.conf"
    kdc_conf = directory / "kdc.conf"
    krb5_conf.write_text(
        f"""[libdefaults]
    default_realm = {REALM}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    # MIT's own defaults, spelled out: host names would be canonicalised through DNS, forward
    # and reverse, for host-based service names.  aiohyperv names the SPN HTTP/<host> as
    # typed, so the tests pass with them on.
    rdns = true
    dns_canonicalize_hostname = true
    udp_preference_limit = 1
    ticket_lifetime = 10h
    forwardable = false

[realms]
    {REALM} = {{
        kdc = 127.0.0.1:{port}
    }}
"""
    )
    kdc_conf.write_text(
        f"""[kdcdefaults]
    kdc_listen = 127.0.0.1:{port}
    kdc_tcp_listen = 127.0.0.1:{port}

[realms]
    {REALM} = {{
        database_name = {directory / "principal"}
        key_stash_file = {directory / "stash"}
        acl_file = {directory / "kadm5.acl"}
        max_life = 10h
        max_renewable_life = 0
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }}

[logging]
    kdc = FILE:{directory / "kdc.log"}
"""
    )
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "KRB5_CONFIG": str(krb5_conf),
        "KRB5_KDC_PROFILE": str(kdc_conf),
        "KRB5CCNAME": f"FILE:{directory / 'unused-ccache'}",
        "KRB5_KTNAME": f"FILE:{directory / 'unused-keytab'}",
        "LC_ALL": "C",
    }


def start_realm(directory: Path, *, attempts: int = 5) -> Realm:
    """Create a realm in ``directory`` and start its KDC; the caller must :meth:`Realm.stop` it.

    The KDC's port is picked free, then bound by the KDC a moment later; should another
    process take it in between, the KDC exits and the realm is started on another port.
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "kadm5.acl").write_text("")
    env = _write_config(directory, _free_port())
    subprocess.run(
        [_tool("kdb5_util"), "create", "-s", "-r", REALM, "-P", "master-key-for-tests"],
        env=env,
        capture_output=True,
        check=True,
        timeout=120,
    )
    for attempt in range(attempts):
        port = _free_port()
        env = _write_config(directory, port)
        realm = Realm(directory=directory, port=port, env=env, keytab=directory / "http.keytab")
        log = directory / "kdc.log"
        offset = log.stat().st_size if log.exists() else 0
        realm._kdc = subprocess.Popen(
            [_tool("krb5kdc"), "-n", "-r", REALM],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            if _wait_ready(realm, log, offset):
                return realm
        except BaseException:
            realm.stop()
            raise
        realm.stop()
        if attempt == attempts - 1:
            break
    raise RuntimeError(f"krb5kdc did not start; see {directory / 'kdc.log'}")


def _wait_ready(realm: Realm, log: Path, offset: int) -> bool:
    """True once the KDC logged that it serves (its sockets are bound), False if it exited.

    MIT's KDC writes "commencing operation" after setting up its sockets, and exits when one
    cannot be bound.  Waiting for another process's log line leaves nothing to await: the
    log file is polled.
    """
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = log.read_bytes()[offset:] if log.exists() else b""
        if b"commencing operation" in text:
            return True
        if not realm.running:
            return False
        time.sleep(0.02)
    raise TimeoutError("krb5kdc did not report it was serving within 30 seconds")
