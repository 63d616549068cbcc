"""How hosts are cut into batches, and what a local worker process is started with."""

from __future__ import annotations

import pickle

import pytest

from aiohyperv._credentials import Credentials
from aiohyperv.fleet import Fleet, idempotent
from aiohyperv.fleet._batches import (
    MAX_BATCH,
    Secrets,
    batch_size_for,
    plan_batches,
    resolve_secrets,
    worker_environment,
)
from aiohyperv.fleet._fleet import _is_idempotent
from aiohyperv.fleet._inventory import inventory_op


@pytest.mark.parametrize(
    ("hosts", "slots", "size"),
    [
        (300, 2, 50),  # a worker's share is 150: at least 50 per batch keeps its core busy
        (1000, 2, 125),  # four batches per thread
        (100, 2, 50),
        (10, 4, 3),  # a thread's whole share when that is smaller than 50
        (1, 8, 1),
        (100_000, 2, MAX_BATCH),
        (1000, 0, 250),  # no worker known yet: as if one
    ],
)
def test_batch_size_adapts_to_fleet_and_workers(hosts: int, slots: int, size: int) -> None:
    assert batch_size_for(hosts, slots) == size
    assert batch_size_for(hosts, slots, 7) == 7


def test_batches_cover_every_host_once_in_order() -> None:
    batches = plan_batches(list(range(23)), 5)
    assert [len(b) for b in batches] == [5, 5, 5, 5, 3]
    assert [h for b in batches for h in b] == list(range(23))


def test_worker_environment_drops_credentials() -> None:
    base = {
        "PATH": "/usr/bin",
        "AIOHYPERV_PASSWORD": "p",
        "AIOHYPERV_USERNAME": "u",
        "DB_PASSWD": "x",
        "API_TOKEN": "t",
        "aws_secret_access_key": "k",
        "HOME": "/root",
    }
    env = worker_environment(base, path=["", "/nonexistent-dir", "."])
    assert env == {"PATH": "/usr/bin", "HOME": "/root", "PYTHONPATH": "."}


async def test_secrets_are_resolved_here_and_never_shown() -> None:
    a = Credentials(username="admin", password="pw-a")
    b = Credentials(username="other", password="pw-b")
    uris = ["hyperv://h1:5985/", "hyperv://h2:5985/", "hyperv://h3:5985/", "hyperv://h4:5985/"]

    def callback(request: object) -> Credentials | None:
        return None  # h4: nobody knows

    fleet = Fleet(uris, auth={uris[0]: a, uris[1]: b, "h3": a, uris[3]: callback})
    hosts = [(i, text, uri) for i, (text, uri) in enumerate(fleet._hosts)]
    ready, failed, secrets = await resolve_secrets(fleet, hosts)
    assert [h.secret for h in ready] == [0, 1, 0]  # one copy of each distinct credential
    assert secrets.items == (a, b)
    [refused] = failed
    assert refused.index == 3 and refused.error is not None
    assert "pw-" not in repr(secrets) + repr(ready)
    assert pickle.loads(pickle.dumps(secrets)).items == (a, b)
    assert repr(Secrets([a])) == "<Secrets: 1 credentials>"


def test_idempotent_is_declared_or_given() -> None:
    async def op(host: object) -> None:
        return None

    assert not _is_idempotent(op, None)
    assert _is_idempotent(op, True)
    assert _is_idempotent(inventory_op, None)
    assert not _is_idempotent(inventory_op, False)
    assert idempotent(op) is op and _is_idempotent(op, None)
