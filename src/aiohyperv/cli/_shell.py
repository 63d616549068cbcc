"""``aiohyperv shell`` (or ``aiohyperv -c URI`` on a terminal): virsh's interactive prompt.

One connection is opened and kept for the whole session; each line is split like a shell
command line (:func:`shlex.split`) and parsed and dispatched exactly as the same words after
``aiohyperv -c URI`` would be, so every command, option and ``help`` works the same.

- ``quit``, ``exit`` or end of input (Ctrl-D) leaves; ``help [COMMAND]`` explains.
- Ctrl-C while a command runs cancels that command and returns to the prompt; at the prompt it
  abandons the line being typed.
- An error prints one line and the shell goes on; the exit status is that of the last command.

The line is read with :func:`input`, which uses :mod:`readline` (history, line editing) when the
platform has it.  The prompt blocks the event loop while it waits: nothing else runs in a shell
session between commands, and a blocking read is what lets Ctrl-C interrupt it directly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import shlex
import signal
import sys
from typing import TYPE_CHECKING, TextIO

from aiohyperv._config import parse_uri
from aiohyperv._credentials import default_auth
from aiohyperv._exceptions import ConfigError, HyperVError

from ._advice import describe
from ._format import safe_line
from ._options import make_pool, tls_options

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from aiohyperv._credentials import AuthCallback, Credentials
    from aiohyperv.hyperv import HyperVConnection

__all__ = ["PROMPT", "run_shell"]

PROMPT = "aiohyperv # "
QUIT = frozenset({"quit", "exit"})
#: Options of the session that every line inherits (a line may still say ``--json`` itself).
_INHERITED = ("connect", "readonly", "quiet", "job_timeout", "deadline", "json", "debug", "log")


class _CtrlC:
    """The shell's SIGINT handler: at the prompt it abandons the line (KeyboardInterrupt out of
    :func:`input`); while a command runs it cancels the command's task.  One that comes between
    the two (the line was read, its task not yet started) cancels the command as it starts."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.prompting = False
        self.pending = False
        self.task: asyncio.Future[int] | None = None

    def __call__(self, signum: int, frame: object) -> None:
        if self.prompting:
            raise KeyboardInterrupt
        task = self.task
        if task is None:
            self.pending = True
        elif not task.done():
            self.loop.call_soon_threadsafe(task.cancel)  # wakes the loop out of its select()

    def read_line(self, prompt: str) -> str:
        self.pending = False
        self.prompting = True
        try:
            return input(prompt)
        finally:
            self.prompting = False

    async def run(self, work: Awaitable[int], err: TextIO) -> int:
        """Run ``work``; Ctrl-C cancels it (status 130) and the shell goes on."""
        task = self.task = asyncio.ensure_future(work)
        if self.pending:
            task.cancel()
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not task.cancelled() or (current is not None and current.cancelling()):
                raise  # the shell itself is being cancelled
            err.write("interrupted\n")
            return 130
        finally:
            self.task = None
            self.pending = False


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (ValueError, AttributeError):
        return False


@contextlib.contextmanager
def _handling_ctrl_c(ctrl_c: _CtrlC) -> Iterator[None]:
    """``ctrl_c`` as the SIGINT handler for the session (asyncio.run's own comes back after)."""
    try:
        previous = signal.signal(signal.SIGINT, ctrl_c)
    except ValueError:  # pragma: no cover - not the main thread: Ctrl-C stays asyncio.run's
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _enable_line_editing() -> None:
    with contextlib.suppress(ImportError):  # not on Windows: input() still works, unedited
        import readline  # noqa: F401  # importing it gives input() history and editing


def parse_line(
    parser: argparse.ArgumentParser, session: argparse.Namespace, words: list[str], out: TextIO
) -> argparse.Namespace | str | int:
    """``words`` parsed as a command line of the session.

    Returns:
        The arguments; or the one-line error to show; or an exit status when argparse ended
        the line itself (``list --help`` prints and exits 0).
    """
    seed = argparse.Namespace(**{k: getattr(session, k) for k in _INHERITED if hasattr(session, k)})
    complaint = io.StringIO()
    try:
        with contextlib.redirect_stderr(complaint), contextlib.redirect_stdout(out):
            args = parser.parse_args(words, namespace=seed)
    except SystemExit as exc:
        lines = complaint.getvalue().strip().splitlines()
        if lines:
            return lines[-1]  # "aiohyperv: error: ...", without the usage lines
        return exc.code if isinstance(exc.code, int) else 2
    if args.connect != session.connect:
        return "error: the shell keeps its connection; quit and start another for a new one"
    return args


async def run_shell(
    parser: argparse.ArgumentParser,
    session: argparse.Namespace,
    uris: list[str],
    out: TextIO,
    err: TextIO,
    auth: Credentials | AuthCallback | None,
    dispatch: Callable[[argparse.Namespace, HyperVConnection], Awaitable[int]],
) -> int:
    """Open one connection to ``uris[0]`` and run lines typed at the prompt on it.

    Args:
        parser: The CLI's parser: each line is parsed with it.
        session: The arguments the shell was started with (their global options carry over).
        uris: The connection URI (exactly one).
        out: Where command output and the prompt's answers go.
        err: Where errors go.
        auth: Credentials or an auth callback (default: environment, auth.conf, a prompt).
        dispatch: Runs one line's arguments on the connection, as the CLI would.

    Returns:
        The exit status of the last command (0 if none ran); 1 if the connection failed.
    """
    from aiohyperv.hyperv._connection import connect

    if len(uris) != 1:
        err.write("error: the shell works on one host: give one -c URI\n")
        return 2
    if auth is None:
        auth = default_auth(interactive=True)
    status = 0
    try:
        tls = tls_options(session)
        async with contextlib.AsyncExitStack() as stack:
            pool = await stack.enter_async_context(make_pool(tls)) if tls is not None else None
            conn = await stack.enter_async_context(
                connect(
                    uris[0],
                    auth=auth,
                    pool=pool,
                    read_only=session.readonly,
                    job_timeout=session.job_timeout,
                )
            )
            _enable_line_editing()
            ctrl_c = _CtrlC(asyncio.get_running_loop())
            prompt = PROMPT if _isatty(sys.stdin) else ""  # `aiohyperv shell < commands.txt`
            stack.enter_context(_handling_ctrl_c(ctrl_c))
            if not session.quiet:
                out.write(
                    f"Connected to {parse_uri(uris[0]).host_label}.\n"
                    "Type 'help' for the commands, 'quit' or Ctrl-D to leave.\n\n"
                )
                out.flush()
            while True:
                try:
                    line = ctrl_c.read_line(prompt)
                except KeyboardInterrupt:
                    out.write("\n")
                    continue
                except EOFError:
                    out.write("\n")
                    break
                try:
                    words = shlex.split(line)
                except ValueError as exc:  # an unclosed quote
                    err.write(f"error: {exc}\n")
                    status = 2
                    continue
                if not words:
                    continue
                if words[0] in QUIT:
                    break
                if words[0] == "shell":
                    err.write("error: this is the shell already\n")
                    continue
                parsed = parse_line(parser, session, words, out)
                if isinstance(parsed, str):
                    err.write(f"{parsed}\n")
                    status = 2
                elif isinstance(parsed, int):
                    status = parsed
                else:
                    status = await ctrl_c.run(dispatch(parsed, conn), err)
                    if words[0] == "help" and len(words) == 1:
                        out.write("\nIn the shell: quit, exit or Ctrl-D leaves.\n")
                out.flush()
                err.flush()
    except (HyperVError, ConfigError) as exc:
        err.write(f"error: {safe_line(describe(exc))}\n")
        return 1
    return status
