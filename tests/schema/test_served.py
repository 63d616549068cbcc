"""What the simulator sends for the schema's classes: Windows' shape, and Hyper-V's instances.

Windows writes every scalar property of an instance (``xsi:nil`` when NULL) and leaves a NULL
array out entirely (``HYPERV-WMI.md`` section 5).  libvirt's client deserializes every scalar
its generator input lists and reads element 0 of an array whenever the element is present, so
both halves matter.
"""

from __future__ import annotations

import pytest
from lxml import etree

from aiohyperv.simulator import HostSpec, SimulatedHost
from aiohyperv.simulator._instance import Instance, to_xml
from aiohyperv.simulator._providers import instances_of
from aiohyperv.simulator._schema import SCHEMAS
from aiohyperv.wsman._ns import NAMESPACE_CIMV2, NS

from ..simulator._helpers import ManualClock

XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
# An instance is written inside an envelope that declares the addressing prefixes.
_WRAP = "<wrap " + " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items() if k in "aw") + ">{}</wrap>"


def parse_instance(inst: Instance) -> etree._Element:
    return etree.fromstring(_WRAP.format(to_xml(inst)).encode())[0]


def make_host(os: str, *, vms: int = 6, seed: int = 5) -> SimulatedHost:
    spec = HostSpec(name=f"hv-{os.lower()}", os=os, vms=vms, seed=seed)
    return SimulatedHost.generate(spec, clock=ManualClock())


def served(host: SimulatedHost) -> list[Instance]:
    found: list[Instance] = []
    for namespace in (host.namespace, NAMESPACE_CIMV2):
        for cls in SCHEMAS[namespace].classes():
            found.extend(i for i in instances_of(host, namespace, cls.name) if i.cls is cls)
    return found


@pytest.mark.parametrize("os", ["2008R2", "2012R2", "2019"])
def test_every_scalar_is_sent_and_no_null_array(os: str) -> None:
    host = make_host(os)
    instances = served(host)
    assert len({i.cls.name for i in instances}) > 20
    for inst in instances:
        root = parse_instance(inst)
        seen: dict[str, list[etree._Element]] = {}
        for child in root:
            seen.setdefault(etree.QName(child).localname, []).append(child)
        for prop in inst.cls.properties:
            elements = seen.get(prop.name, [])
            where = f"{inst.cls.name}.{prop.name}"
            if not prop.array:
                assert len(elements) == 1, f"{where} is not sent exactly once"
                continue
            assert all(e.get(XSI_NIL) is None for e in elements), f"{where} sent as xsi:nil"
            if not inst.values.get(prop.name):
                assert not elements, f"{where} is NULL but sent"
