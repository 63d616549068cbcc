"""Credentials and where they come from.

Like ``virConnectOpenAuth``, aiohyperv asks an *auth callback* for whatever the URI did not say
(the user name, the password or both) and hands it the host name as its challenge.  A callback
may be a plain function or a coroutine function, and may return ``None`` to pass.  Ready-made
sources cover explicit values, the environment, libvirt's ``auth.conf`` and an interactive prompt;
:class:`ChainAuth` tries several in order.

The password is never part of a repr, a str, a log line or an exception message.
"""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import functools
import getpass
import inspect
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from ._exceptions import CredentialsError

if TYPE_CHECKING:
    from ._config import ConnectionURI

__all__ = [
    "AuthCallback",
    "AuthConfFile",
    "ChainAuth",
    "CredentialRequest",
    "Credentials",
    "EnvironmentAuth",
    "PromptAuth",
    "StaticAuth",
    "default_auth",
    "resolve_credentials",
    "resolve_session_credentials",
]

ENV_USERNAME = "AIOHYPERV_USERNAME"
ENV_PASSWORD = "AIOHYPERV_PASSWORD"


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """A user name and password for one host. The password never shows in repr or str."""

    username: str
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password='***')"

    __str__ = __repr__


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialRequest:
    """What an auth callback is asked: the challenge (host name) and the user, if known."""

    hostname: str
    username: str | None = None
    port: int | None = None


AuthResult: TypeAlias = Credentials | None
AuthCallback: TypeAlias = Callable[[CredentialRequest], AuthResult | Awaitable[AuthResult]]


async def _call(callback: AuthCallback, request: CredentialRequest) -> Credentials | None:
    result = callback(request)
    if inspect.isawaitable(result):
        result = await result
    if result is not None and not isinstance(result, Credentials):
        raise CredentialsError(
            f"auth callback returned {type(result).__name__}, expected Credentials or None"
        )
    return result


@dataclass(frozen=True, slots=True)
class StaticAuth:
    """Explicit credentials for every host; a user name in the URI takes precedence."""

    username: str
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"StaticAuth(username={self.username!r}, password='***')"

    def __call__(self, request: CredentialRequest) -> Credentials:
        return Credentials(username=request.username or self.username, password=self.password)


@dataclass(frozen=True, slots=True)
class EnvironmentAuth:
    """Credentials from ``AIOHYPERV_USERNAME`` and ``AIOHYPERV_PASSWORD``."""

    username_var: str = ENV_USERNAME
    password_var: str = ENV_PASSWORD

    def __call__(self, request: CredentialRequest) -> Credentials | None:
        password = os.environ.get(self.password_var)
        username = request.username or os.environ.get(self.username_var)
        if password is None or not username:
            return None
        return Credentials(username=username, password=password)


def default_auth_conf_path() -> Path:
    """``$LIBVIRT_AUTH_FILE``, else ``$XDG_CONFIG_HOME/libvirt/auth.conf`` (``~/.config``)."""
    explicit = os.environ.get("LIBVIRT_AUTH_FILE")
    if explicit:
        return Path(explicit)
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "libvirt" / "auth.conf"


def _where(exc: Exception) -> str:
    """``", line N"`` for a configparser error that knows its line (the first, if several)."""
    lineno = getattr(exc, "lineno", None)
    errors = getattr(exc, "errors", None)
    if lineno is None and errors:
        lineno = errors[0][0]
    return f", line {lineno}" if isinstance(lineno, int) else ""


@dataclass(frozen=True, slots=True)
class AuthConfFile:
    """libvirt's ``auth.conf``: ``[auth-hyperv-HOST]`` names a ``[credentials-NAME]`` group.

    As in libvirt, ``[auth-hyperv-default]`` applies to hosts without their own group, and the
    credentials group holds ``username`` (or ``authname``) and ``password``.  The file is read in
    a worker thread, never on the event loop.
    """

    path: Path | None = None

    def _lookup(self, request: CredentialRequest) -> Credentials | None:
        explicit = self.path is None and bool(os.environ.get("LIBVIRT_AUTH_FILE"))
        path = self.path or default_auth_conf_path()
        parser = configparser.RawConfigParser(strict=False)
        parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
        unreadable: str | None = None
        try:
            with path.open(encoding="utf-8") as handle:
                parser.read_file(handle)
        except FileNotFoundError:
            if explicit:  # as libvirt: a file named on purpose must be there
                raise CredentialsError(
                    f"auth file {path} (named by LIBVIRT_AUTH_FILE) does not exist"
                ) from None
            return None
        except (OSError, configparser.Error, UnicodeDecodeError) as exc:
            # The message names the line, never its text: it may hold a password.
            unreadable = f"{_where(exc)}: {type(exc).__name__}"
        if unreadable is not None:
            # Raised outside the handler: configparser's errors quote the offending line (a
            # password, perhaps), and would stay reachable as the error's __context__.
            raise CredentialsError(f"cannot read auth file {path}{unreadable}")
        for group in (f"auth-hyperv-{request.hostname}", "auth-hyperv-default"):
            if parser.has_section(group):
                name = parser.get(group, "credentials", fallback=None)
                section = f"credentials-{name}"
                if not name or not parser.has_section(section):
                    raise CredentialsError(
                        f"auth file {path}: group [{group}] names missing credentials {name!r}"
                    )
                username = (
                    request.username
                    or parser.get(section, "username", fallback=None)
                    or parser.get(section, "authname", fallback=None)
                )
                password = parser.get(section, "password", fallback=None)
                if not username or password is None:
                    return None
                return Credentials(username=username, password=password)
        return None

    async def __call__(self, request: CredentialRequest) -> Credentials | None:
        return await asyncio.to_thread(self._lookup, request)


class _PromptCancelled(Exception):
    """The awaiting task was cancelled while the prompt waited for a line."""


def _read_tty_line(prompt: str, *, echo: bool, wakeup: int) -> str:
    """Read one line from the controlling terminal, giving up when ``wakeup`` is readable.

    Like :func:`getpass.getpass` it talks to ``/dev/tty`` and turns echo off for passwords,
    but it waits with ``select`` on the terminal *and* a wake-up pipe, so the event loop can
    stop it: a thread blocked in ``input()`` cannot be interrupted, and would keep the process
    (and the terminal's echo setting) hostage after Ctrl-C.
    """
    import select
    import termios

    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:  # no controlling terminal: stdin is a terminal all the same (checked)
        fd = os.dup(sys.stdin.fileno())
    try:
        old = termios.tcgetattr(fd)
        if not echo:
            new = termios.tcgetattr(fd)
            new[3] &= ~termios.ECHO
            termios.tcsetattr(fd, termios.TCSAFLUSH, new)
        try:
            os.write(fd, prompt.encode())
            data = b""
            while not data.endswith(b"\n"):
                ready, _, _ = select.select([fd, wakeup], [], [])
                if wakeup in ready:
                    raise _PromptCancelled
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise EOFError
                data += chunk
        finally:
            if not echo:
                termios.tcsetattr(fd, termios.TCSAFLUSH, old)
                os.write(fd, b"\n")
    finally:
        os.close(fd)
    return data.decode(errors="replace").rstrip("\r\n")


def _have_tty() -> bool:
    return sys.platform != "win32" and os.path.exists("/dev/tty")


def _read_stdin_line(prompt: str, *, echo: bool) -> str:
    return input(prompt) if echo else getpass.getpass(prompt)


async def prompt_line(prompt: str, *, echo: bool = True) -> str:
    """Ask for one line on the terminal without blocking the event loop, interruptibly.

    The prompt waits in a worker thread; cancelling the awaiting task (which is what Ctrl-C
    does under ``asyncio.run``) ends the wait at once and restores the terminal.

    Raises:
        EOFError: The input ended (Ctrl-D).
    """
    loop = asyncio.get_running_loop()
    if not _have_tty():  # pragma: no cover - POSIX CI
        return await asyncio.to_thread(_read_stdin_line, prompt, echo=echo)
    read_end, write_end = os.pipe()
    try:
        future = loop.run_in_executor(
            None, functools.partial(_read_tty_line, prompt, echo=echo, wakeup=read_end)
        )
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            os.write(write_end, b"x")
            with contextlib.suppress(_PromptCancelled, OSError, EOFError):
                await future  # the thread restores the terminal and ends
            raise
    finally:
        os.close(read_end)
        os.close(write_end)


@dataclass(frozen=True, slots=True)
class PromptAuth:
    """Ask on the terminal, as virsh does; the password is read without echo.

    Ctrl-C at a prompt interrupts the program (the prompt never swallows it); Ctrl-D passes.
    """

    async def __call__(self, request: CredentialRequest) -> Credentials | None:
        if not sys.stdin or not sys.stdin.isatty():
            return None
        try:
            username = request.username
            if not username:
                username = (await prompt_line(f"Enter username for {request.hostname}: ")).strip()
                if not username:
                    return None
            password = await prompt_line(
                f"Enter {username}'s password for {request.hostname}: ", echo=False
            )
        except EOFError:
            return None
        return Credentials(username=username, password=password)


class ChainAuth:
    """Try each source in order; the first that returns credentials wins."""

    def __init__(self, *sources: AuthCallback) -> None:
        self.sources = sources

    def __repr__(self) -> str:
        return f"ChainAuth({', '.join(type(s).__name__ for s in self.sources)})"

    async def __call__(self, request: CredentialRequest) -> Credentials | None:
        for source in self.sources:
            found = await _call(source, request)
            if found is not None:
                return found
        return None


def default_auth(*, interactive: bool = False) -> ChainAuth:
    """The sources the CLI uses: environment, libvirt auth.conf, then (optionally) a prompt."""
    sources: list[AuthCallback] = [EnvironmentAuth(), AuthConfFile()]
    if interactive:
        sources.append(PromptAuth())
    return ChainAuth(*sources)


async def resolve_credentials(
    uri: ConnectionURI, auth: Credentials | AuthCallback | None = None
) -> Credentials:
    """Find the credentials for ``uri``: the URI's user name wins, the source supplies the rest.

    Args:
        uri: The parsed connection URI.
        auth: Explicit credentials, an auth callback (sync or async), or None for
            :func:`default_auth` (environment, then libvirt's auth.conf).

    Returns:
        Credentials for the host.

    Raises:
        CredentialsError: No source could supply them.
    """
    if isinstance(auth, Credentials):
        found: Credentials | None = auth
    else:
        request = CredentialRequest(hostname=uri.hostname, username=uri.username, port=uri.port)
        found = await _call(auth if auth is not None else default_auth(), request)
    if found is None:
        raise CredentialsError(
            f"no credentials for {uri.host_label}: give an auth callback, set {ENV_USERNAME} "
            f"and {ENV_PASSWORD}, or add [auth-hyperv-{uri.hostname}] to libvirt's auth.conf",
            host=uri.host_label,
        )
    if uri.username and found.username != uri.username:
        return Credentials(username=uri.username, password=found.password)
    return found


async def resolve_session_credentials(
    uri: ConnectionURI, auth: Credentials | AuthCallback | None = None
) -> Credentials | None:
    """What a session for ``uri`` authenticates with: credentials, or None for Kerberos' cache.

    With ``?auth=kerberos`` and no explicit :class:`Credentials`, the answer is None: the
    session uses the ticket in the user's credential cache (``KRB5CCNAME``, what ``kinit``
    filled), and no source is consulted, so nothing prompts for a password.  Explicit
    credentials get a ticket with their password instead.  Every other method resolves as
    :func:`resolve_credentials` does.

    Raises:
        CredentialsError: No source could supply credentials a method needs.
    """
    if uri.auth == "kerberos" and not isinstance(auth, Credentials):
        return None
    return await resolve_credentials(uri, auth)
