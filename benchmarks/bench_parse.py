"""Parse speed of a 1,000-instance PullResponse against the lxml floor.

Builds a PullResponse of 1,000 Msvm_ComputerSystem-sized instances (34 properties: realistic
values, some NULL, a few arrays, datetimes) with aiohyperv's own serializer, then times, in the
same run and on the same bytes:

* the floor: ``lxml.etree.fromstring`` alone;
* aiohyperv: ``parse_response`` + ``parse_enumerate`` (hardened parse, envelope checks, every
  instance turned into a ``CimInstance``).

Best CPU time of N interleaved rounds (see ``best_interleaved``); prints instances/second for
both, the ratio, and the peak Python memory of one aiohyperv parse (tracemalloc).  Target:
within 2.5x of the floor.

Both sides free their result inside the timing, and the ratio compares each side timed right
after a call of the same side, so that each pays for freeing its own tree.  That matters because
of glibc: ``xmlFreeDoc`` puts the tree's tens of thousands of small blocks on malloc's fast free
lists, and glibc merges them all (``malloc_consolidate``, ~5 ms here) at the next free that
leaves 64 KB or more free in one piece, or at the next large allocation.  After a
``fromstring``, that is in the next call: a ``fromstring`` timed right after an aiohyperv parse
hands the merging of its tree to whatever runs next, while an aiohyperv parse merges its own
(its result is freed inside the call).  The best time over both orders, which lets the floor
skip that cost, is printed too, for information.  Run it also with
``GLIBC_TUNABLES=glibc.malloc.mxfast=0``, which turns the fast lists off (no merging on either
side): docs/PERFORMANCE.md gives all three.  Also for information: the ratio on a small
(20-instance) PullResponse like the ones the fleet inventory parses, and one host's KVP items
(12 running VMs x 12 embedded Msvm_KvpExchangeDataItem CIM-XML texts) read the way the
inventory reads them (``kvp_pairs``: WMI's own flat shape without a parser), through the
hardened parser, and with bare ``lxml.etree.fromstring`` of each item.

Run: ``.venv/bin/python benchmarks/bench_parse.py [--instances 1000] [--repeats 15]``
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from lxml import etree

from aiohyperv.cim import CimInstance, CimType, EmbeddedInstance, to_cimxml
from aiohyperv.cim._cimxml import _tree_strings
from aiohyperv.hyperv._guest import kvp_pairs
from aiohyperv.simulator._codec import build_pull_response
from aiohyperv.wsman import NAMESPACE_V2, parse_enumerate, parse_response, resource_uri

if TYPE_CHECKING:
    from collections.abc import Callable

URI = resource_uri(NAMESPACE_V2, "Msvm_ComputerSystem")
SMALL_INSTANCES = 20
SMALL_LOOPS = 50
KVP_NAMES = (
    "FullyQualifiedDomainName", "OSName", "OSVersion", "CSDVersion", "OSMajorVersion",
    "OSMinorVersion", "OSBuildNumber", "OSPlatformId", "ProcessorArchitecture",
    "IntegrationServicesVersion", "NetworkAddressIPv4", "NetworkAddressIPv6",
)  # fmt: skip
KVP_VMS = 12


def make_instance(i: int) -> CimInstance:
    """One VM's Msvm_ComputerSystem, with the property mix a real host returns."""
    guid = str(uuid.UUID(int=i + 1)).upper()
    booted = datetime(2024, 3, 1, 8, 0, tzinfo=UTC) + timedelta(minutes=i)
    return CimInstance.from_values(
        "Msvm_ComputerSystem",
        URI,
        {
            "InstanceID": f"Microsoft:{guid}",
            "Caption": "Virtual Machine",
            "Description": "Microsoft Virtual Machine",
            "ElementName": f"vm-{i:05d}.fleet.example.com",
            "InstallDate": booted - timedelta(days=30),
            "Name": guid,
            "OperationalStatus": [2],
            "StatusDescriptions": ["Operating normally"],
            "Status": None,
            "HealthState": 5,
            "CommunicationStatus": None,
            "DetailedStatus": None,
            "OperatingStatus": None,
            "PrimaryStatus": None,
            "EnabledState": 2 if i % 3 else 3,
            "OtherEnabledState": None,
            "RequestedState": 12,
            "EnabledDefault": 2,
            "TimeOfLastStateChange": booted,
            "AvailableRequestedStates": [],
            "TransitioningToState": 5,
            "CreationClassName": "Msvm_ComputerSystem",
            "PrimaryOwnerName": "FLEET\\hyperv-admin",
            "PrimaryOwnerContact": None,
            "Roles": None,
            "NameFormat": None,
            "Dedicated": [0],
            "ResetCapability": 1,
            "OnTimeInMilliseconds": 86_400_000 + i * 1000,
            "ProcessID": 4000 + i,
            "NumberOfNumaNodes": 1,
            "ReplicationState": 0,
            "EnhancedSessionModeState": 3,
            "HwThreadsPerCoreRealized": 1,
        },
    )


def kvp_item(name: str, data: str) -> str:
    """One embedded Msvm_KvpExchangeDataItem as the simulator writes it."""
    emb = EmbeddedInstance("Msvm_KvpExchangeDataItem").set("Caption", CimType.STRING, None)
    emb.set("Data", CimType.STRING, data)
    emb.set("Description", CimType.STRING, None).set("ElementName", CimType.STRING, None)
    emb.set("Name", CimType.STRING, name).set("Source", CimType.UINT16, 2)
    return to_cimxml(emb)


def best_interleaved(
    fns: dict[str, Callable[[], object]],
    repeats: int,
    *,
    after_itself: dict[str, float] | None = None,
) -> dict[str, float]:
    """Best CPU time of each function over ``repeats`` rounds.

    Each round runs every function twice in a row, one after the other, so each is timed both
    right after itself and right after the other: how fast libxml2 parses depends on what the
    previous call left in the allocator (on this kind of VM, ``fromstring`` runs ~40% faster
    after a Python-heavy call than after another ``fromstring``), and best-of then gives each
    side its best state.  CPU time of this thread (``time.thread_time``), not wall time, so
    that preemptions on a shared machine do not land in one side's figure at random.

    ``after_itself``, when given, receives each function's best time among its second calls
    only (each timed right after itself), for information.
    """
    times: dict[str, float] = dict.fromkeys(fns, float("inf"))
    if after_itself is not None:
        after_itself.update(dict.fromkeys(fns, float("inf")))
    for _ in range(repeats):
        for label, fn in fns.items():
            for second in (False, True):
                gc.collect()
                start = time.thread_time()
                fn()
                elapsed = time.thread_time() - start
                times[label] = min(times[label], elapsed)
                if second and after_itself is not None:
                    after_itself[label] = min(after_itself[label], elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    items = [make_instance(i) for i in range(args.instances)]
    data = build_pull_response(
        items, context="uuid:5E5B2A3C-0000-0000-0000-000000000001", end_of_sequence=False
    )

    def ours() -> int:
        return len(parse_enumerate(parse_response(data)).items)

    def floor() -> object:
        return etree.fromstring(data)

    count = ours()
    assert count == args.instances, count
    props = len(items[0].properties)
    ours()
    floor()  # warm up both
    after_itself: dict[str, float] = {}
    times = best_interleaved(
        {"floor": floor, "ours": ours}, args.repeats, after_itself=after_itself
    )
    t_floor, t_ours = times["floor"], times["ours"]

    # The fleet inventory mostly parses small responses (1-80 instances, 1-60 KB): the same
    # comparison on one, parsed SMALL_LOOPS times per timed call.
    small_data = build_pull_response(
        items[:SMALL_INSTANCES],
        context="uuid:5E5B2A3C-0000-0000-0000-000000000002",
        end_of_sequence=True,
    )

    def ours_small() -> None:
        for _ in range(SMALL_LOOPS):
            parse_enumerate(parse_response(small_data))

    def floor_small() -> None:
        for _ in range(SMALL_LOOPS):
            etree.fromstring(small_data)

    small = best_interleaved({"floor": floor_small, "ours": ours_small}, args.repeats)

    kvp = [
        [kvp_item(name, f"{name.lower()}-value-{vm}") for name in KVP_NAMES]
        for vm in range(KVP_VMS)
    ]
    kvp_bytes = [[item.encode() for item in items] for items in kvp]
    names = frozenset({"Name", "Data"})
    assert [kvp_pairs(items) for items in kvp] == [
        {t["Name"]: t["Data"] for t in (_tree_strings(i, names) for i in items)} for items in kvp
    ]

    def kvp_ours() -> None:
        for _ in range(SMALL_LOOPS):
            for items in kvp:
                kvp_pairs(items)

    def kvp_parser() -> None:
        for _ in range(SMALL_LOOPS):
            for items in kvp:
                for item in items:
                    _tree_strings(item, names)

    def kvp_floor() -> None:
        for _ in range(SMALL_LOOPS):
            for items in kvp_bytes:
                for item in items:
                    etree.fromstring(item)

    kvp_times = best_interleaved(
        {"floor": kvp_floor, "parser": kvp_parser, "ours": kvp_ours}, args.repeats
    )

    gc.collect()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    result = parse_enumerate(parse_response(data))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result

    print(
        f"PullResponse: {args.instances} instances x {props} properties,"
        f" {len(data) / 1e6:.2f} MB, best of {args.repeats}"
    )
    s_floor, s_ours = after_itself["floor"], after_itself["ours"]
    print(f"lxml.etree.fromstring (floor):        {args.instances / s_floor:12,.0f} instances/s")
    print(f"parse_response + parse_enumerate:     {args.instances / s_ours:12,.0f} instances/s")
    print(f"ratio (aiohyperv / floor time):       {s_ours / s_floor:12.2f}x  (target <= 2.5x)")
    print(
        f"peak memory for one parse (tracemalloc): {(peak - base) / 1e6:.1f} MB"
        " (Python objects; libxml2's tree is not traced)"
    )
    print("informational, not the target:")
    print(
        f"  ratio with each side's best over both orders (the floor then skips merging its "
        f"freed tree): {t_ours / t_floor:.2f}x  (floor {args.instances / t_floor:,.0f} instances/s)"
    )
    print(
        f"  ratio on a small PullResponse ({SMALL_INSTANCES} instances,"
        f" {len(small_data) / 1e3:.0f} KB, x{SMALL_LOOPS}):"
        f" {small['ours'] / small['floor']:.2f}x"
    )
    per_host = {k: v / SMALL_LOOPS * 1e6 for k, v in kvp_times.items()}
    print(
        f"  one host's KVP items ({KVP_VMS} VMs x {len(KVP_NAMES)}): kvp_pairs"
        f" {per_host['ours']:.0f} us, through the parser {per_host['parser']:.0f} us"
        f" ({per_host['parser'] / per_host['ours']:.1f}x), bare fromstring of each item"
        f" {per_host['floor']:.0f} us ({per_host['ours'] / per_host['floor']:.2f}x of it)"
    )


if __name__ == "__main__":
    main()
