"""The command line on a real (pseudo-)terminal, as a user sees it: prompts, Ctrl-C, progress.

Each test starts ``python -m aiohyperv`` in a subprocess whose stdin, stdout and stderr are the
slave side of a pty that is its controlling terminal, types into the master side and reads what
the terminal would show.  Reads wait for expected text with a generous deadline, which only
turns a hang into a failure; nothing here sleeps to synchronise.
"""

from __future__ import annotations

import asyncio
import os
import re
import select
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from aiohyperv.testing import HostSpec, run_simulator

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")

DEADLINE = 60.0

# Make the pty the child's controlling terminal (it is a session leader after setsid), then run
# the CLI: /dev/tty, Ctrl-C and the terminal size all behave as in a terminal window.
_LAUNCH = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.executable, [sys.executable, '-m', 'aiohyperv', *sys.argv[1:]])"
)


class Terminal:
    """A subprocess on a pseudo-terminal; ``expect`` reads until a pattern shows up."""

    def __init__(self, *argv: str, env: dict[str, str], columns: int = 120) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, columns, 0, 0))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _LAUNCH, *argv],
            stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        self.screen = ""

    def expect(self, pattern: str) -> re.Match[str]:
        """Read until ``pattern`` matches what arrived after the previous match."""
        start = len(self.screen)
        deadline = time.monotonic() + DEADLINE
        while True:
            match = re.compile(pattern).search(self.screen, start)
            if match is not None:
                return match
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{pattern!r} not seen; the terminal shows {self.screen!r}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"{pattern!r} not seen before the end: {self.screen!r}")
                self.screen += chunk.decode(errors="replace")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def wait(self) -> int:
        """Wait for the exit status, reading everything the program still wrote."""
        try:
            code = self.proc.wait(timeout=DEADLINE)
            # The kernel hands the child's last output to the master side asynchronously:
            # read until EIO, which comes once every slave side is closed and all is read.
            while select.select([self.master], [], [], DEADLINE)[0]:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: nothing left
                    break
                if not chunk:
                    break
                self.screen += chunk.decode(errors="replace")
            return code
        finally:
            self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIOHYPERV_", "LIBVIRT_")) and k != "COLUMNS"
    }
    clean["LIBVIRT_AUTH_FILE"] = str(tmp_path / "auth.conf")  # empty: nothing configured
    (tmp_path / "auth.conf").write_text("")
    clean["TERM"] = "xterm"
    yield clean


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_ctrl_c_at_the_password_prompt_aborts(env: dict[str, str]) -> None:
    uri = f"hyperv://admin@127.0.0.1:{_closed_port()}/?transport=http"
    term = Terminal("-c", uri, "list", env=env)
    term.expect(r"Enter admin's password for 127\.0\.0\.1: ")
    term.type("\x03")
    assert term.wait() == 130
    assert "interrupted" in term.screen
    assert "Traceback" not in term.screen


def test_ctrl_c_at_the_user_name_prompt_of_ask_password_aborts(env: dict[str, str]) -> None:
    uri = f"hyperv://127.0.0.1:{_closed_port()}/?transport=http"
    term = Terminal("inventory", "--ask-password", uri, env=env)
    term.expect(r"User name for all hosts: ")
    term.type("\x03")
    assert term.wait() == 130
    assert "Traceback" not in term.screen


def test_password_prompt_does_not_echo_and_restores_the_terminal(env: dict[str, str]) -> None:
    uri = f"hyperv://admin@127.0.0.1:{_closed_port()}/?transport=http"
    term = Terminal("-c", uri, "list", env=env)
    term.expect(r"password for 127\.0\.0\.1: ")
    term.type("hunter2\r")
    term.expect(r"error: .*127\.0\.0\.1")  # the host is not there; the password was taken
    assert term.wait() == 1
    assert "hunter2" not in term.screen


async def test_progress_ticks_and_names_the_host_that_hangs(env: dict[str, str]) -> None:
    env = {**env, "AIOHYPERV_USERNAME": "admin", "AIOHYPERV_PASSWORD": "secret"}
    with socket.socket() as hang:
        hang.bind(("127.0.0.1", 0))
        hang.listen(8)  # accepts connections (in the backlog) and never answers
        hanging = f"127.0.0.1:{hang.getsockname()[1]}"
        async with run_simulator(HostSpec(name="hv-ok", vms=3)) as sim:
            term = Terminal(
                "inventory", sim.uris[0], f"hyperv://{hanging}/?transport=http", env=env
            )
            try:
                frame = r"(\d+)/2 hosts.*?(\d+\.\d)s\x1b\[K\r?\nwaiting for: ([^\x1b]*)\x1b\[K"
                first = await asyncio.to_thread(term.expect, frame)
                while first[1] != "1":  # until the good host is done
                    first = await asyncio.to_thread(term.expect, frame)
                assert first[3].startswith(f"{hanging} ")
                later = await asyncio.to_thread(term.expect, frame)
                while later[2] == first[2]:
                    later = await asyncio.to_thread(term.expect, frame)
                assert float(later[2]) > float(first[2])  # the clock ticks while nothing ends
                assert later[3].startswith(f"{hanging} ")
                assert "3 VMs" in term.screen
            finally:
                term.close()


async def test_shell_runs_typed_commands_over_one_connection(env: dict[str, str]) -> None:
    env = {**env, "AIOHYPERV_USERNAME": "admin", "AIOHYPERV_PASSWORD": "secret"}
    async with run_simulator(HostSpec(name="hv-shell", vms=2, seed=5)) as sim:
        term = Terminal("-c", sim.uris[0], env=env)  # no command, on a terminal: the shell
        try:
            await asyncio.to_thread(term.expect, r"aiohyperv # ")
            term.type("hostname\r")
            await asyncio.to_thread(term.expect, r"hv-shell\r?\n(.|\n)*aiohyperv # ")
            term.type("dominfo no-such-vm\r")  # an error is one line, and the shell goes on
            await asyncio.to_thread(term.expect, r"error: [^\n]*no-such-vm[^\n]*\n(.|\n)*# ")
            term.type("list --all\r")
            listing = await asyncio.to_thread(term.expect, r"Name(.|\n)*?aiohyperv # ")
            assert len(re.findall(r"(running|shut off|paused|saved)", listing[0])) == 2
        except BaseException:
            term.close()
            raise
        term.type("quit\r")
        code = await asyncio.to_thread(term.wait)  # closes the terminal
    assert code == 0, term.screen
    assert "Traceback" not in term.screen


async def test_ctrl_c_in_the_shell_cancels_the_command_not_the_shell(env: dict[str, str]) -> None:
    env = {**env, "AIOHYPERV_USERNAME": "admin", "AIOHYPERV_PASSWORD": "secret"}
    with socket.socket() as hang:
        hang.bind(("127.0.0.1", 0))
        hang.listen(8)  # accepts connections (in the backlog) and never answers
        hanging = f"hyperv://127.0.0.1:{hang.getsockname()[1]}/?transport=http"
        async with run_simulator(HostSpec(name="hv-shell", vms=1, seed=5)) as sim:
            term = Terminal("-c", sim.uris[0], "shell", env=env)
            try:
                await asyncio.to_thread(term.expect, r"aiohyperv # ")
                term.type(f"inventory {hanging}\r")
                await asyncio.to_thread(term.expect, r"waiting for: ")  # it runs, and hangs
                term.type("\x03")
                await asyncio.to_thread(term.expect, r"interrupted(.|\n)*aiohyperv # ")
                term.type("hostname\r")
                await asyncio.to_thread(term.expect, r"hv-shell\r?\n(.|\n)*aiohyperv # ")
            except BaseException:
                term.close()
                raise
            term.type("exit\r")
            code = await asyncio.to_thread(term.wait)
    assert code == 0, term.screen  # the status of the last command (hostname)
    assert "Traceback" not in term.screen
