"""Names and selector values that try to break out of WQL, selectors, XML or CIM-XML.

Against the simulator (whose WQL engine follows WMI's quoting and LIKE rules): VMs are given
hostile names -- in the simulator's state directly, and through ``define_xml`` (so the name
travels as an embedded CIM-XML instance) -- next to near-miss neighbours, and each lookup must
find exactly its own VM.  Values XML 1.0 cannot carry are refused with a typed error before
anything is sent.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape as xml_escape

import pytest

from aiohyperv._config import ConnectionURI, parse_uri
from aiohyperv._credentials import Credentials
from aiohyperv._exceptions import ConfigError, HyperVError, VMNotFound
from aiohyperv._transport import WSManSession
from aiohyperv.cim import CimInstance
from aiohyperv.hyperv import _wql as wql
from aiohyperv.hyperv import connect
from aiohyperv.simulator import VM
from aiohyperv.testing import HostSpec, run_simulator
from aiohyperv.wsman import NAMESPACE_V2, Filter, resource_uri, wildcard_uri

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohyperv.hyperv import HyperVConnection
    from aiohyperv.simulator import SimulatedHost, SimulatorServer

CREDS = Credentials(username="admin", password="secret")
CS_URI = resource_uri(NAMESPACE_V2, "Msvm_ComputerSystem")

#: Hostile names, each next to its near misses (all are VMs on the same host at once).
NAMES: list[str] = [
    # quotes and the backslash that escapes them in WQL
    "a'b",
    "a''b",
    "a\\'b",
    'a"b',
    'a""b',
    "a\\b",
    "a\\\\b",
    "a\\",
    "\\",
    "'",
    '"',
    "''",
    # classic injections
    "x' OR Name LIKE '%",
    "x' OR '1'='1",
    'x" OR ElementName <> "',
    "web-01' --",
    # XML metacharacters and CDATA terminators
    "a<b",
    "a>b",
    "a&b",
    "a&amp;b",
    "a&#65;b",
    "]]>",
    "a]]>b",
    "<![CDATA[x]]>",
    "<INSTANCE CLASSNAME='x'/>",
    # LIKE wildcards and brackets (only special inside LIKE patterns)
    "%",
    "_",
    "a%b",
    "axxb",
    "a_b",
    "acb",
    "[a]",
    "a",
    "[%]",
    "[^a]",
    # whitespace that XML normalises unless escaped
    "tab\there",
    "tab here",
    "line\nbreak",
    "line\rbreak",
    "line\r\nbreak",
    " lead",
    "lead",
    "trail ",
    "trail",
    "two  spaces",
    "two spaces",
    # non-ASCII
    "caf\u00e9",
    "cafe\u0301",
    "\u65e5\u672c\u8a9e-vm",
    "\U0001f600-emoji",
    "\u0085nel",
    "\u2028ls",
    "\u00a0nbsp",
    "\ufeffbom",
    "\u202eevil",
    "WEB-01",
    "web-01",
]

#: Characters XML 1.0 cannot carry at all: a lookup must fail typed, before the wire.
UNSENDABLE = ["nul\x00", "bell\x07", "esc\x1b[31m", "\x01", "lone\ud800surrogate", "\ufffe"]


def _add_vm(host: SimulatedHost, name: str, index: int) -> str:
    guid = f"0000{index:04X}-1111-4222-8333-444455556666"
    vm = VM(guid=guid, name=name, seed=index)
    host.vms[vm.guid] = vm
    return vm.guid


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorServer]:
    async with run_simulator(HostSpec(name="hv01", vms=0, seed=1, job_duration=0.01)) as server:
        yield server


@pytest.fixture
async def conn(sim: SimulatorServer) -> AsyncIterator[HyperVConnection]:
    async with connect(sim.uris[0], auth=CREDS) as connection:
        yield connection


async def test_hostile_names_find_exactly_their_vm(
    sim: SimulatorServer, conn: HyperVConnection
) -> None:
    host = sim.hosts[0]
    guids = {name: _add_vm(host, name, i) for i, name in enumerate(NAMES)}
    assert len(set(NAMES)) == len(NAMES)
    async with asyncio.timeout(60):
        listed = {d.name: d.guid for d in await conn.list_domains()}
        assert listed == guids  # every name survives the trip back exactly
        for name, guid in guids.items():
            dom = await conn.lookup_domain_by_name(name)
            assert (dom.name, dom.guid) == (name, guid), f"lookup of {name!r}"


async def test_object_paths_and_selectors_with_hostile_keys(
    sim: SimulatorServer, conn: HyperVConnection
) -> None:
    """A VM whose *key* (its Name) is hostile: Get by selector and ASSOCIATORS OF paths."""
    host = sim.hosts[0]
    keys = ["K'1", 'K"2', "K\\3", "K<&>]]>4", "K\u00e9\r\n5", "K%_[6]"]
    for i, key in enumerate(keys):
        vm = VM(guid=key, name=f"vm-{i}", seed=i)
        host.vms[vm.guid] = vm
    session = conn.session
    async with asyncio.timeout(60):
        for i, key in enumerate(keys):
            upper = key.upper()
            inst = await session.get(
                CS_URI, {"CreationClassName": "Msvm_ComputerSystem", "Name": upper}
            )
            assert (inst.get_str("Name"), inst.get_str("ElementName")) == (upper, f"vm-{i}")
            # An ASSOCIATORS OF {Msvm_ComputerSystem.Name='<key>'} object path, quoted.
            dom = await conn.lookup_domain_by_name(f"vm-{i}")
            assert dom.guid == upper
            info = await dom.info()
            assert info.nr_virt_cpu == host.vms[upper].cpus


async def test_like_patterns_match_literally(sim: SimulatorServer, conn: HyperVConnection) -> None:
    """The driver's LIKE escaping (``[%]``, ``[_]``, ``[[]``) against WMI's LIKE rules."""
    host = sim.hosts[0]
    guids = {name: _add_vm(host, name, i) for i, name in enumerate(NAMES)}
    async with asyncio.timeout(60):
        for name in guids:
            counter_query = wql.vcpu_counters(name)
            pattern = counter_query.split("LIKE '", 1)[1].rsplit(":Hv VP %'", 1)[0]
            rows = await conn.query(
                f"SELECT * FROM Msvm_ComputerSystem WHERE ElementName LIKE '{pattern}'"
            )
            # WQL's LIKE (and =) ignore case, as WMI's do: "WEB-01" also matches "web-01".
            expected = sorted(g for n, g in guids.items() if n.lower() == name.lower())
            assert sorted(r.get_str("Name") or "" for r in rows) == expected, f"LIKE {name!r}"


async def test_define_xml_names_travel_as_embedded_instances(
    sim: SimulatorServer, conn: HyperVConnection
) -> None:
    """Names set through ``define_xml``: they cross as CIM-XML inside an Invoke parameter."""
    chosen = [
        "a'b",
        "a''b",
        'a"b',
        "a\\b",
        "a]]>b",
        "<INSTANCE CLASSNAME='x'/>",
        "a&amp;b",
        "a&b",
        "x' OR '1'='1",
        "line\r\nbreak",
        "tab\there",
        "caf\u00e9 \U0001f600",
        "a%b",
        "a_b",
    ]
    async with asyncio.timeout(60):
        made = {}
        for name in chosen:
            xml = (
                "<domain type='hyperv'><name>"
                + xml_escape(name, {"\r": "&#13;", "\t": "&#9;", "\n": "&#10;"})
                + "</name><memory unit='MiB'>512</memory><vcpu>1</vcpu></domain>"
            )
            dom = await conn.define_xml(xml)
            assert dom.name == name
            made[name] = dom.guid
        stored = {vm.name: vm.guid for vm in sim.hosts[0].vms.values()}
        assert stored == made  # the simulator parsed each CIM-XML name exactly
        for name, made_guid in made.items():
            assert (await conn.lookup_domain_by_name(name)).guid == made_guid


@pytest.mark.parametrize("name", UNSENDABLE, ids=[repr(n) for n in UNSENDABLE])
async def test_unsendable_names_are_refused_typed(
    sim: SimulatorServer, conn: HyperVConnection, name: str
) -> None:
    requests = sim.hosts[0]
    del requests
    async with asyncio.timeout(30):
        with pytest.raises(ConfigError):
            await conn.lookup_domain_by_name(name)
        with pytest.raises(ConfigError):
            await conn.session.get(CS_URI, {"Name": name})


async def test_missing_name_is_not_found_not_a_wildcard(
    sim: SimulatorServer, conn: HyperVConnection
) -> None:
    host = sim.hosts[0]
    for i, name in enumerate(["alpha", "beta"]):
        _add_vm(host, name, i)
    async with asyncio.timeout(30):
        for probe in ["%", "_", "*", "alph%", "' OR '1'='1", "ALPHA ", "alpha\x00"]:
            with pytest.raises((VMNotFound, ConfigError)):
                await conn.lookup_domain_by_name(probe)


async def test_raw_wql_filters_reach_the_server_intact(sim: SimulatorServer) -> None:
    """The WQL text itself (not only values) crosses the envelope unchanged."""
    host = sim.hosts[0]
    for i, name in enumerate(["q<&>]]>'\"\\", "plain"]):
        _add_vm(host, name, i)
    query = "SELECT * FROM Msvm_ComputerSystem WHERE ElementName = " + wql.quote("q<&>]]>'\"\\")
    async with WSManSession(_uri(sim), CREDS) as session, asyncio.timeout(30):
        rows = [
            r
            async for r in session.enumerate(wildcard_uri(NAMESPACE_V2), filter=Filter.wql(query))
            if isinstance(r, CimInstance)
        ]
    assert [r.get_str("ElementName") for r in rows] == ["q<&>]]>'\"\\"]


def _uri(sim: SimulatorServer) -> ConnectionURI:
    return parse_uri(sim.uris[0] + "&auth=basic")


def test_every_hostile_name_is_covered() -> None:
    text = "".join(NAMES)
    for ch in "'\"\\<&>%_[]\t\n\r\u00e9\U0001f600":
        assert ch in text
    assert "]]>" in text
    assert isinstance(HyperVError, type)


async def test_case_only_differences(sim: SimulatorServer, conn: HyperVConnection) -> None:
    """Exact case wins; a lookup in another case still finds a VM whose name is unique."""
    host = sim.hosts[0]
    upper = _add_vm(host, "WEB-01", 1)
    lower = _add_vm(host, "web-01", 2)
    only = _add_vm(host, "DB-01", 3)
    async with asyncio.timeout(30):
        assert (await conn.lookup_domain_by_name("WEB-01")).guid == upper
        assert (await conn.lookup_domain_by_name("web-01")).guid == lower
        assert (await conn.lookup_domain_by_name("db-01")).guid == only
        with pytest.raises(HyperVError, match="multiple domains"):
            await conn.lookup_domain_by_name("Web-01")
