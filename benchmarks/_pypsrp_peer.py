"""The same fleet inventory done with pypsrp, the peer the fleet benchmark compares against.

pypsrp's ``WSMan`` is synchronous (``requests``), so the peer runs one ``WSMan`` per host in a
thread pool, the way a pypsrp user would inventory a fleet.  Each host gets exactly the queries
aiohyperv's inventory sends (``CIMV2_QUERIES``, then ``V2_QUERIES`` or ``V1_QUERIES`` by OS
version, and ``GetSummaryInformation``), one after the other, with the same ``MaxElements``;
the rows are turned into :class:`~aiohyperv.cim.CimInstance` objects and joined by the same pure
function (``build_inventory``), so both sides produce comparable ``HostInventory`` values and
the benchmark can check that they are equal.  What differs is only what the benchmark means to
compare: envelope building, HTTP, message sealing and XML parsing.

Run as a client process: ``python benchmarks/_pypsrp_peer.py URIS_JSON THREADS`` prints one JSON
line with wall time, CPU time, peak RSS, requests and a digest of the results.
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

N = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
W = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
S_BODY = "{http://www.w3.org/2003/05/soap-envelope}Body"
WQL = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
WMI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/"


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _properties(element: ET.Element) -> dict[str, Any]:
    """An item's properties: text, None for ``xsi:nil``, a list when a name repeats."""
    props: dict[str, Any] = {}
    for child in element:
        name = _local(child.tag)
        if child.get(XSI_NIL) in ("true", "1"):
            value: Any = None
        elif len(child):
            value = _properties(child)  # an embedded instance
        else:
            value = child.text or ""
        if name in props:
            previous = props[name]
            props[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            props[name] = value
    return props


def _instance(item: ET.Element) -> Any:
    from aiohyperv.cim import CimInstance

    # A projection comes back as w:XmlFragment with unqualified children; SELECT * as the class.
    name = _local(item.tag)
    return CimInstance(name, None, _properties(item))


class PeerHost:
    """One host's inventory over one pypsrp ``WSMan``."""

    def __init__(self, uri: str, password: str, max_elements: int) -> None:
        from pypsrp.wsman import WSMan

        from aiohyperv import parse_uri

        parsed = parse_uri(uri)
        self.label = f"{parsed.hostname}:{parsed.port}"
        self.max_elements = max_elements
        self.requests = 0
        auth = parsed.auth or ("basic" if parsed.transport == "http" else "negotiate")
        self.wsman = WSMan(
            parsed.hostname,
            port=parsed.port,
            username=parsed.username or "admin",
            password=password,
            ssl=parsed.transport == "https",
            cert_validation=False,
            auth="basic" if auth == "basic" else "ntlm" if auth == "ntlm" else "negotiate",
            encryption="never" if auth == "basic" else "auto",
            operation_timeout=20,
            read_timeout=60,
        )

    def enumerate(self, namespace: str, query: str) -> list[Any]:
        body = ET.Element(f"{{{N}}}Enumerate")
        ET.SubElement(body, f"{{{W}}}OptimizeEnumeration")
        ET.SubElement(body, f"{{{W}}}MaxElements").text = str(self.max_elements)
        ET.SubElement(body, f"{{{W}}}Filter", Dialect=WQL).text = query
        uri = f"{WMI}{namespace}/*"
        response = self.wsman.enumerate(uri, body)
        self.requests += 1
        answer = response.find(f"{S_BODY}/{{{N}}}EnumerateResponse")
        if answer is None:
            answer = response.find(f"{{{N}}}EnumerateResponse")
        assert answer is not None, "no EnumerateResponse"
        rows = [_instance(i) for i in answer.find(f"{{{W}}}Items") or []]
        done = answer.find(f"{{{W}}}EndOfSequence") is not None
        context = answer.findtext(f"{{{N}}}EnumerationContext")
        for _ in range(100_000):  # bounded: a host never holds that many batches
            if done:
                break
            pull = ET.Element(f"{{{N}}}Pull")
            ET.SubElement(pull, f"{{{N}}}EnumerationContext").text = context
            ET.SubElement(pull, f"{{{N}}}MaxElements").text = str(self.max_elements)
            pulled = self.wsman.pull(uri, pull)
            self.requests += 1
            answer = pulled.find(f"{S_BODY}/{{{N}}}PullResponse")
            if answer is None:
                answer = pulled.find(f"{{{N}}}PullResponse")
            assert answer is not None, "no PullResponse"
            rows.extend(_instance(i) for i in answer.find(f"{{{N}}}Items") or [])
            done = answer.find(f"{{{N}}}EndOfSequence") is not None
            context = answer.findtext(f"{{{N}}}EnumerationContext")
        return rows

    def summaries(self, namespace: str) -> list[Any]:
        from pypsrp.exceptions import WSManFaultError
        from pypsrp.wsman import SelectorSet

        from aiohyperv.cim import CimInstance

        service = "Msvm_VirtualSystemManagementService"
        uri = f"{WMI}{namespace}/{service}"
        body = ET.Element(f"{{{uri}}}GetSummaryInformation_INPUT")
        # the codes aiohyperv's inventory asks for (2008 R2 predates Replica's 114, 115)
        codes = (0, 101, 103, 104, 109, 112) + (
            () if namespace.endswith("virtualization") else (114, 115)
        )
        for code in codes:
            ET.SubElement(body, f"{{{uri}}}RequestedInformation").text = str(code)
        selectors = SelectorSet()
        selectors.add_option("CreationClassName", service)
        try:
            self.requests += 1
            response = self.wsman.invoke(
                f"{uri}/GetSummaryInformation", uri, body, selector_set=selectors
            )
        except WSManFaultError:
            return []
        output = response.find(f"{S_BODY}/{{{uri}}}GetSummaryInformation_OUTPUT")
        if output is None:
            output = response.find(f"{{{uri}}}GetSummaryInformation_OUTPUT")
        if output is None or output.findtext(f"{{{uri}}}ReturnValue") not in ("0", None):
            return []
        return [
            CimInstance("Msvm_SummaryInformation", None, _properties(item))
            for item in output.findall(f"{{{uri}}}SummaryInformation")
        ]

    def inventory(self) -> Any:
        from aiohyperv.fleet._inventory import (
            CIMV2_QUERIES,
            V1_QUERIES,
            V2_QUERIES,
            build_inventory,
        )

        rows = {f"cim.{k}": self.enumerate("root/cimv2", q) for k, q in CIMV2_QUERIES.items()}
        version = rows["cim.os"][0].properties.get("Version") if rows["cim.os"] else None
        v1 = isinstance(version, str) and version.startswith(("6.0.", "6.1."))
        namespace = "root/virtualization" if v1 else "root/virtualization/v2"
        for key, query in (V1_QUERIES if v1 else V2_QUERIES).items():
            rows[key] = self.enumerate(namespace, query)
        rows["summary"] = self.summaries(namespace)
        return build_inventory(self.label, "v1" if v1 else "v2", rows)

    def close(self) -> None:
        self.wsman.close()


#: Fields that change between two reads of the same host (clocks, live counters).
_VOLATILE_HOST = ("requests", "memory_free")
_VOLATILE_VM = ("uptime", "memory_demand_mib", "memory_assigned_mib", "cpu_load")


def digest(inventories: list[Any]) -> str:
    """A digest of inventory results that ignores request counts, live figures and order."""
    from aiohyperv.fleet._model import to_json_object

    docs = []
    for inv in inventories:
        doc = to_json_object(inv)
        for key in _VOLATILE_HOST:
            doc.pop(key, None)
        vms = doc.get("vms")
        for vm in vms if isinstance(vms, list) else []:
            if isinstance(vm, dict):
                for key in _VOLATILE_VM:
                    vm.pop(key, None)
        docs.append(json.dumps(doc, sort_keys=True))
    return hashlib.sha256("\n".join(sorted(docs)).encode()).hexdigest()[:16]


def run(uris: list[str], threads: int, password: str = "secret") -> dict[str, Any]:
    """Inventory ``uris`` with ``threads`` worker threads; the figures of this process."""
    local = threading.local()
    results: list[Any] = []
    failures: list[str] = []
    lock = threading.Lock()
    requests = 0

    def one(uri: str) -> None:
        nonlocal requests
        host = PeerHost(uri, password, 512)
        local.host = host
        try:
            inv = host.inventory()
            with lock:
                results.append(inv)
                requests += host.requests
        except Exception as exc:  # a failing host is counted, as in the aiohyperv run
            with lock:
                failures.append(f"{type(exc).__name__}: {exc}"[:200])
                requests += host.requests
        finally:
            host.close()

    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, uris))
    wall = time.perf_counter() - t0
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    return {
        "hosts": len(uris),
        "succeeded": len(results),
        "failed": len(failures),
        "errors": sorted(set(failures))[:3],
        "vms": sum(len(inv.vms) for inv in results),
        "wall": wall,
        "cpu": cpu,
        "requests": requests,
        "maxrss_mib": usage1.ru_maxrss / 1024,
        "processes": 1,
        "threads": threads,
        "digest": digest(results),
    }


if __name__ == "__main__":
    report = run(json.loads(Path(sys.argv[1]).read_text()), int(sys.argv[2]))
    print(json.dumps(report))
