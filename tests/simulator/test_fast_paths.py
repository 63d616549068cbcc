"""The simulator's fast paths answer exactly like the straightforward code they replace.

Serving a fleet fast takes caches (a VM's generated settings, parsed queries, coerced WQL
constants), a text serializer that skips ``CimInstance``, and compiled WQL predicates.  Each is
checked here against the plain path on every class the simulator serves, and the caches against
the changes that must invalidate them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from lxml import etree

from aiohyperv.cim import CimInstance
from aiohyperv.simulator import HostSpec, SimulatedHost
from aiohyperv.simulator._app import _dispatch
from aiohyperv.simulator._instance import to_cim, to_xml
from aiohyperv.simulator._providers import instances_of, vm_resources
from aiohyperv.simulator._schema import SCHEMAS
from aiohyperv.simulator._wql import _matches, _predicate, execute, parse_wql
from aiohyperv.wsman import (
    NAMESPACE_CIMV2,
    NAMESPACE_V1,
    NAMESPACE_V2,
    Enumeration,
    Filter,
    RequestOptions,
    build_enumerate,
    parse_enumerate,
    parse_response,
    wildcard_uri,
)
from aiohyperv.wsman._items import instance_xml, parse_item
from aiohyperv.wsman._ns import NS

from ._helpers import ManualClock

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aiohyperv.cim import PropertyValue
    from aiohyperv.simulator._instance import Instance

OPTIONS = RequestOptions(to="http://127.0.0.1:5985/wsman")


def make_host(os: str = "2019", vms: int = 6, seed: int = 3) -> SimulatedHost:
    spec = HostSpec(name=f"hv-{os.lower()}", os=os, vms=vms, seed=seed)
    host = SimulatedHost.generate(spec, clock=ManualClock())
    vm = next(iter(host.vms.values()))
    vm.notes = 'a <b> & "c"\r\nline'  # text that needs escaping
    return host


def every_instance(host: SimulatedHost) -> list[Instance]:
    found: list[Instance] = []
    for namespace in (host.namespace, NAMESPACE_CIMV2):
        for cls in SCHEMAS[namespace].classes():
            if cls.abstract:
                continue
            found.extend(
                inst for inst in instances_of(host, namespace, cls.name) if inst.cls is cls
            )
    return found


@pytest.mark.parametrize("os", ["2008R2", "2012R2", "2022"])
def test_text_serializer_matches_the_cim_instance_path(os: str) -> None:
    host = make_host(os)
    instances = every_instance(host)
    assert len({inst.cls.name for inst in instances}) > 20
    for inst in instances:
        assert to_xml(inst) == instance_xml(to_cim(inst))
        names = [p.name for p in inst.cls.properties]
        for only in (frozenset(n.lower() for n in names[::3]), frozenset(), frozenset({"nope"})):
            # a projection is a w:XmlFragment (unqualified children): compare what it parses to
            fragment = parse_item(etree.fromstring(_in_scope(to_xml(inst, only=only)))[0])
            assert isinstance(fragment, CimInstance)
            assert fragment.class_name == ""
            expected = to_cim(inst, only=only).properties
            # without a class element an array of one reads back as a scalar
            assert _flat(fragment.properties) == _flat(expected)


def _flat(props: Mapping[str, PropertyValue]) -> dict[str, PropertyValue]:
    return {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in props.items()}


def _in_scope(item: str) -> str:
    """An item with the a:/w:/cim: prefixes the response envelope declares."""
    return f'<x xmlns:a="{NS["a"]}" xmlns:w="{NS["w"]}" xmlns:cim="{NS["cim"]}">{item}</x>'


QUERIES = [
    "SELECT * FROM CIM_ResourceAllocationSettingData WHERE ResourceType = 3 OR ResourceType = 33"
    " OR ResourceSubType = 'microsoft:hyper-v:virtual hard disk'"
    " OR ResourceSubType = 'MICROSOFT:HYPER-V:SYNTHETIC DVD DRIVE'",
    "SELECT * FROM CIM_ResourceAllocationSettingData WHERE ResourceType = 3 OR ResourceType = '4'",
    "SELECT * FROM CIM_ResourceAllocationSettingData WHERE ResourceType = 10 OR ElementName ="
    " 'Processor' OR ResourceType = 31",
    "SELECT * FROM Msvm_ComputerSystem WHERE EnabledState = 2 OR EnabledState = 3.0",
    "SELECT * FROM Msvm_ComputerSystem WHERE NOT (EnabledState = 2 OR EnabledState = 9)",
    "SELECT * FROM Msvm_ComputerSystem WHERE Description = 'microsoft virtual machine'"
    " AND EnabledState != 3",
    "SELECT * FROM Msvm_ComputerSystem WHERE ElementName LIKE 'w%' OR ProcessID IS NULL",
    "SELECT * FROM Msvm_ComputerSystem WHERE OnTimeInMilliseconds > 0",
    "SELECT * FROM Msvm_ComputerSystem WHERE __CLASS = 'Msvm_ComputerSystem' OR Name = 'x'",
    "SELECT * FROM Msvm_MemorySettingData WHERE DynamicMemoryEnabled = TRUE"
    " OR DynamicMemoryEnabled = 1",
    "SELECT * FROM Msvm_VirtualSystemSettingData WHERE CreationTime < '20990101000000.000000+000'",
]


@pytest.mark.parametrize("query", QUERIES)
def test_compiled_predicates_match_the_interpreter(query: str) -> None:
    host = make_host("2019", vms=12)
    parsed = parse_wql(query)
    assert parsed is parse_wql(query)  # cached by text
    where = parsed.where  # type: ignore[union-attr]  # every query above is a SELECT
    assert where is not None
    test = _predicate(where)
    assert test is _predicate(where)
    candidates = list(instances_of(host, host.namespace, parsed.class_name))  # type: ignore[union-attr]
    expected = [inst for inst in candidates if _matches(host, inst, where)]
    assert [inst for inst in candidates if test(host, inst)] == expected
    found = execute(host, host.namespace, parsed)[0]
    assert [paths(i) for i in found] == [paths(i) for i in expected]
    assert 0 < len(expected) < len(candidates) or any(
        word in query for word in ("NOT", "__CLASS", "CreationTime")
    )


def paths(inst: Instance) -> str:
    return inst.ref().relpath()


def _settings(host: SimulatedHost) -> dict[str, list[dict[str, object]]]:
    return {
        guid: [dict(r.values, _class=r.class_name) for r in vm_resources(host, vm)]
        for guid, vm in host.vms.items()
    }


def test_generated_settings_are_cached_and_follow_changes() -> None:
    host = make_host("2019", vms=3)
    vm = next(iter(host.vms.values()))
    assert vm_resources(host, vm) is vm_resources(host, vm)  # cached
    fresh = make_host("2019", vms=3)
    assert _settings(host) == _settings(fresh)  # the cache changes nothing

    before = vm_resources(host, vm)
    vm.cpus += 2
    after = vm_resources(host, vm)
    assert after is not before
    cpu = next(r for r in after if r.class_name == "Msvm_ProcessorSettingData")
    assert cpu.values["VirtualQuantity"] == vm.cpus
    vm.name = "renamed"
    after = vm_resources(host, vm)
    disk = next(r for r in after if r.class_name == "Msvm_StorageAllocationSettingData")
    assert "renamed" in str(disk.values["HostResource"])
    host.switches.append(("0B1E3A4C-0000-4000-8000-000000000001", "Lab"))
    assert vm_resources(host, vm) is not after  # host-wide inputs count too


def _answers(
    host: SimulatedHost, queries: list[str]
) -> list[list[tuple[str, dict[str, PropertyValue]]]]:
    out = []
    for query in queries:
        enum = Enumeration(
            wildcard_uri(host.namespace), options=OPTIONS, filter=Filter.wql(query), max_pulls=1000
        )
        items: list[tuple[str, dict[str, PropertyValue]]] = []
        request: bytes | None = enum.start()
        while request is not None:
            status, data = _dispatch(host, request, authenticated=True)
            assert status == 200, data[:300]
            items.extend(
                (i.class_name, i.properties)
                for i in enum.receive(data)
                if isinstance(i, CimInstance)
            )
            request = enum.next_request()
        out.append(items)
    return out


@pytest.mark.parametrize("os", ["2008R2", "2016"])
def test_a_warmed_host_answers_like_a_cold_one(os: str) -> None:
    from aiohyperv.fleet._inventory import V1_QUERIES, V2_QUERIES

    queries = list((V1_QUERIES if os == "2008R2" else V2_QUERIES).values())
    cold, warm = make_host(os, vms=8), make_host(os, vms=8)
    warm.warm()
    assert all(vm.generated is not None for vm in warm.vms.values())
    assert all(vm.generated is None for vm in cold.vms.values())
    assert _answers(warm, queries) == _answers(cold, queries)


def test_base_class_query_returns_each_subclass_in_its_own_namespace() -> None:
    host = make_host("2022", vms=4)
    where = " WHERE ResourceType = 3 OR ResourceType = 4 OR ResourceType = 33"
    (rows,) = _answers(host, ["SELECT * FROM CIM_ResourceAllocationSettingData" + where])
    classes = {name for name, _props in rows}
    assert classes == {
        "Msvm_ProcessorSettingData",
        "Msvm_MemorySettingData",
        "Msvm_EthernetPortAllocationSettingData",
    }
    query = "SELECT * FROM CIM_ResourceAllocationSettingData" + where
    body = build_enumerate(wildcard_uri(NAMESPACE_V2), options=OPTIONS, filter=Filter.wql(query))
    _status, data = _dispatch(host, body, authenticated=True)
    batch = parse_enumerate(parse_response(data))
    assert batch.items
    for item in batch.items:
        assert isinstance(item, CimInstance) and item.resource_uri is not None
        assert item.resource_uri.endswith("/" + item.class_name)


def test_projection_items_are_classless_fragments() -> None:
    # txwinrm-server2012/*_all_000.xml: a projection's items are w:XmlFragment, no class
    host = make_host("2022", vms=4)
    query = (
        "SELECT InstanceID, ResourceType FROM CIM_ResourceAllocationSettingData"
        " WHERE ResourceType = 3 OR ResourceType = 4 OR ResourceType = 33"
    )
    (rows,) = _answers(host, [query])
    assert rows and {name for name, _props in rows} == {""}
    assert all(set(props) == {"InstanceID", "ResourceType"} for _name, props in rows)


@pytest.mark.parametrize(("os", "limit_kb", "vms"), [("2008R2", 150, 150), ("2019", 500, 400)])
def test_max_envelope_size_is_capped_by_the_host(os: str, limit_kb: int, vms: int) -> None:
    # MS-WSMV 3.1.4.1.7: asking for more than MaxEnvelopeSizekb gets MaxEnvelopeSizekb.
    host = make_host(os, vms=vms)
    namespace = NAMESPACE_V1 if os == "2008R2" else NAMESPACE_V2
    query = "SELECT * FROM Msvm_ComputerSystem"
    greedy = RequestOptions(to=OPTIONS.to, max_envelope_size=4 * 1024 * 1024)
    body = build_enumerate(
        wildcard_uri(namespace), options=greedy, filter=Filter.wql(query), max_elements=10_000
    )
    status, data = _dispatch(host, body, authenticated=True)
    assert status == 200
    assert len(data) <= limit_kb * 1024
    batch = parse_enumerate(parse_response(data))
    assert batch.context is not None and not batch.end_of_sequence  # the rest needs Pulls
    assert 0 < len(batch.items) < vms + 1


async def test_server_warm_prepares_hosts_and_their_accounts() -> None:
    from aiohyperv._config import parse_uri
    from aiohyperv._credentials import Credentials
    from aiohyperv._transport import SessionPool
    from aiohyperv.simulator import SimulatorServer, generate_fleet

    hosts = generate_fleet(2, 3, seed=5)
    async with SimulatorServer(hosts) as server:
        server.warm()
        assert all(vm.generated is not None for h in hosts for vm in h.vms.values())
        async with SessionPool() as pool:
            # NTLM (the default) against the user tables warm() wrote, then a query.
            session = pool.session(
                parse_uri(server.uris[1]), Credentials(username="admin", password="secret")
            )
            query = "SELECT Name FROM Msvm_ComputerSystem WHERE Caption = 'Virtual Machine'"
            async with session.enumerate(
                wildcard_uri(hosts[1].namespace), filter=Filter.wql(query)
            ) as items:
                names = {i.get_str("Name") async for i in items if isinstance(i, CimInstance)}
    assert names == set(hosts[1].vms)
