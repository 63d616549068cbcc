"""Parsing what ``aiohyperv serve`` is told: durations, listen addresses, database URLs, tokens."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from aiohyperv._exceptions import ConfigError
from aiohyperv.service import (
    ServiceConfig,
    build_parser,
    parse_database_url,
    parse_duration,
    parse_listen,
)
from aiohyperv.service._cli import make_config, read_token

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("90s", 90.0), ("5m", 300.0), ("1h30m", 5400.0), ("30d", 2592000.0),
     ("250ms", 0.25), ("1w", 604800.0), ("2.5h", 9000.0)],
)  # fmt: skip
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "0", "5x", "m", "-5m", "5m garbage", "0s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1:8080", ("127.0.0.1", 8080)), (":9000", ("127.0.0.1", 9000)),
     ("[::1]:8080", ("::1", 8080)), ("0.0.0.0:80", ("0.0.0.0", 80))],
)  # fmt: skip
def test_listen(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["8080", "host:", "host:99999", "host:http"])
def test_bad_listen(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_listen(text)


def test_database_urls() -> None:
    assert parse_database_url("sqlite:///rel.db").target == "rel.db"
    assert parse_database_url("sqlite:////abs/x.db").target == "/abs/x.db"
    assert parse_database_url("plain.db").kind == "sqlite"
    pg = parse_database_url("postgresql://inv:s3cret@db.example:5432/inv")
    assert pg.kind == "postgresql"
    assert "s3cret" not in pg.display and "s3cret" not in repr(pg)
    assert pg.display == "postgresql://inv:***@db.example:5432/inv"
    with pytest.raises(ConfigError):
        parse_database_url("mysql://x/y")


def test_actions_need_a_token_and_the_token_stays_hidden() -> None:
    with pytest.raises(ConfigError):
        ServiceConfig(enable_actions=True)
    config = ServiceConfig(enable_actions=True, token="x" * 20)
    assert "x" * 20 not in repr(config)


def test_token_file(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("short\n")
    with pytest.raises(ConfigError):
        read_token(str(path))
    path.write_text("a-long-enough-token-value\n")
    os.chmod(path, 0o600)
    assert read_token(str(path)) == "a-long-enough-token-value"
    with pytest.raises(ConfigError):
        read_token(str(tmp_path / "missing"))


def test_parser_defaults_and_demo_defaults() -> None:
    args = build_parser().parse_args(["hyperv://hv01/"])
    config = make_config(args)
    assert config.interval == 300.0
    assert config.database.target == "aiohyperv-serve.db"
    assert config.listen == ("127.0.0.1", 8080)
    assert config.retention == 30 * 86400.0
    assert make_config(build_parser().parse_args(["--demo"])).retention == 86400.0
    demo = make_config(
        build_parser().parse_args(["--demo", "--interval", "5s", "--retention", "2h"])
    )
    assert demo.interval == 5.0 and demo.retention == 7200.0
    assert demo.database.target == ":memory:"
