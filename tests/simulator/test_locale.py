"""Hosts in other display languages: the client must find every VM without reading English text.

Windows localizes Caption, Description and StatusDescriptions, so ``Description = 'Microsoft
Virtual Machine'`` finds nothing on a German or Japanese host (libvirt switched to
``Name != __SERVER`` in 6.9 for that reason).  Inventory and ``list_domains`` (both active and
inactive: ``list --all``) must find all VMs on such hosts too.
"""

from __future__ import annotations

import asyncio

import pytest

from aiohyperv._credentials import Credentials
from aiohyperv._exceptions import ConfigError
from aiohyperv.fleet import Fleet
from aiohyperv.fleet._inventory import inventory_op
from aiohyperv.hyperv import connect
from aiohyperv.simulator import generate_fleet
from aiohyperv.simulator._cli import _serve, build_parser
from aiohyperv.testing import HostSpec, run_simulator

AUTH = Credentials(username="admin", password="secret")
# The client selects VMs by ``Name != __SERVER``, never by the localized Description.
LOCALES = ["en-US", "de-DE", "ja-JP", "zh-CN"]


@pytest.mark.parametrize("locale", LOCALES)
async def test_inventory_finds_every_vm(locale: str) -> None:
    spec = HostSpec(name="hv-intl", vms=7, seed=4, locale=locale)
    async with run_simulator(spec) as server:
        result = await Fleet(server.uris, auth=AUTH).run(inventory_op)
        inventory = result.results[0].unwrap()
        host = server.hosts[0]
    assert sorted(vm.name for vm in inventory.vms) == sorted(v.name for v in host.vms.values())


@pytest.mark.parametrize("locale", LOCALES)
async def test_list_all_domains_finds_every_vm(locale: str) -> None:
    spec = HostSpec(name="hv-intl", vms=7, seed=4, locale=locale)
    async with run_simulator(spec) as server, connect(server.uris[0], auth=AUTH) as conn:
        domains = await conn.list_domains(active=True, inactive=True)
        host = server.hosts[0]
    assert sorted(d.name for d in domains) == sorted(v.name for v in host.vms.values())


def test_fleet_locale_mix_is_drawn_per_host_and_checked() -> None:
    hosts = generate_fleet(40, 0, seed=3, locale_mix={"en-US": 1.0, "de-DE": 1.0, "ja-JP": 1.0})
    locales = [h.spec.locale for h in hosts]
    assert set(locales) == {"en-US", "de-DE", "ja-JP"}
    again = generate_fleet(40, 0, seed=3, locale_mix={"en-US": 1.0, "de-DE": 1.0, "ja-JP": 1.0})
    assert [h.spec.locale for h in again] == locales
    # the mix does not change which Windows release each host runs
    assert [h.spec.os for h in hosts] == [h.spec.os for h in generate_fleet(40, 0, seed=3)]
    assert {h.spec.locale for h in generate_fleet(5, 0)} == {"en-US"}
    with pytest.raises(ConfigError, match="locale"):
        generate_fleet(1, 0, locale_mix={"fr-FR": 1.0})
    with pytest.raises(ConfigError, match="locale"):
        HostSpec(name="x", locale="xx-XX")
    with pytest.raises(ConfigError, match="batching"):
        HostSpec(name="x", batching="some")  # type: ignore[arg-type]


async def test_simulate_cli_batching_and_locale(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(
        ["--hosts", "2", "--vms", "1", "--batching", "full", "--locale", "de-DE"]
    )
    assert (args.batching, args.locale) == ("full", "de-DE")
    stop = asyncio.Event()
    stop.set()  # serve, print, stop at once
    assert await _serve(args, stop) == 0
    hosts = [line for line in capsys.readouterr().out.splitlines() if line.startswith("hyperv://")]
    assert len(hosts) == 2 and all(line.endswith(", de-DE") for line in hosts)
    assert build_parser().parse_args(["--locale", "mixed"]).locale == "mixed"
    assert build_parser().parse_args([]).batching == "windows"
