"""``aiohyperv serve`` as a command: registration in the CLI, usage errors, a real process on
the demo fleet that serves, logs JSON lines without secrets, and stops cleanly on SIGTERM;
and the client library never loads the service."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from typing import TYPE_CHECKING

import aiohttp

from aiohyperv.cli._main import build_parser, main
from aiohyperv.service import Service, serve
from aiohyperv.service import build_parser as serve_parser

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def test_serve_is_listed_in_the_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert "serve" in build_parser().format_help()
    assert main(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--hosts-file" in out and "--enable-actions" in out and "--retention" in out


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--interval", "soon"]) == 2
    assert "not a positive duration" in capsys.readouterr().err


async def test_no_hosts_and_a_missing_token_file_are_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert await serve(serve_parser().parse_args([])) == 2
    assert "no hosts given" in capsys.readouterr().err
    args = serve_parser().parse_args(
        ["--demo", "--enable-actions", "--token-file", str(tmp_path / "none")]
    )
    assert await serve(args) == 2
    assert "token file" in capsys.readouterr().err
    args = serve_parser().parse_args(["--demo", "--enable-actions"])
    assert await serve(args) == 2
    assert "token" in capsys.readouterr().err


async def test_serve_in_process_on_the_demo_fleet_until_stopped(tmp_path: Path) -> None:
    stop = asyncio.Event()
    ready: asyncio.Future[Service] = asyncio.get_running_loop().create_future()
    args = serve_parser().parse_args(
        ["--demo", "--sim-hosts", "3", "--sim-vms", "3", "--listen", "127.0.0.1:0",
         "--database", str(tmp_path / "demo.db"), "--churn", "1h"]
    )  # fmt: skip
    task = asyncio.create_task(serve(args, stop=stop, on_ready=ready.set_result))
    async with asyncio.timeout(60):
        service = await ready
        assert service.scheduler is not None
        run = await service.scheduler.request()
        assert run.hosts == 3 and run.failed == 0
        stop.set()
        assert await task == 0
    assert (tmp_path / "demo.db").exists()


async def test_a_real_process_serves_logs_json_and_stops_on_sigterm(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token = "the-bearer-token-0123456789"
    token_file.write_text(token)
    os.chmod(token_file, 0o600)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aiohyperv.cli", "serve", "--demo", "--sim-hosts", "3",
        "--sim-vms", "3", "--listen", "127.0.0.1:0", "--log-format", "json",
        "--database", str(tmp_path / "serve.db"), "--enable-actions",
        "--token-file", str(token_file),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    lines: list[dict[str, object]] = []
    try:
        async with asyncio.timeout(60):
            port = None
            for _ in range(1000):
                raw = await proc.stderr.readline()
                assert raw, "the service exited early"
                entry = json.loads(raw)
                lines.append(entry)
                message = str(entry["msg"])
                if message.startswith("listening on http://127.0.0.1:"):
                    port = int(message.split(":")[2].split("/")[0])
                if port is not None and message.startswith("run "):
                    break
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    assert response.status == 200
                    assert (await response.json())["status"] == "ok"
            proc.send_signal(signal.SIGTERM)
            rest = await proc.stderr.read()
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    lines.extend(json.loads(line) for line in rest.decode().splitlines() if line.strip())
    messages = [str(entry["msg"]) for entry in lines]
    assert "stopping" in messages and messages[-1] == "stopped"
    assert all({"ts", "level", "logger", "msg"} <= set(entry) for entry in lines)
    everything = json.dumps(lines)
    assert token not in everything and "secret" not in everything


def test_the_client_library_never_loads_the_service() -> None:
    code = (
        "import aiohyperv, aiohyperv.fleet, aiohyperv.hyperv, json, sys\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('aiohyperv.service', "
        "'aiohttp.web', 'aiosqlite', 'asyncpg', 'prometheus_client')))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    assert json.loads(out.splitlines()[-1]) == []


async def test_a_database_that_cannot_be_opened_is_one_error_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = serve_parser().parse_args(
        ["--demo", "--sim-hosts", "1", "--sim-vms", "1", "--listen", "127.0.0.1:0",
         "--database", str(tmp_path / "no-such-dir" / "x.db")]
    )  # fmt: skip
    assert await serve(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("aiohyperv serve: error: cannot start:") and err.count("\n") == 1


async def test_a_port_in_use_is_one_error_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = serve_parser().parse_args(
            ["--demo", "--sim-hosts", "1", "--sim-vms", "1", "--listen", f"127.0.0.1:{port}",
             "--database", str(tmp_path / "x.db")]
        )  # fmt: skip
        assert await serve(args) == 1
    assert "cannot start" in capsys.readouterr().err
