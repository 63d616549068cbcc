"""pypsrp, an independent WS-Man client, drives the checkpoint and migration methods.

The bodies are written here by hand the way Windows expects them (MS-WSMV Invoke: EPR
parameters as ``a:Address`` + ``a:ReferenceParameters``, embedded instances as CIM-XML text),
so these tests hold the simulator to Windows' method signatures rather than to aiohyperv's own
envelope code.  Jobs take no simulated time here: the first poll sees them finished.
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, TypeVar

from pypsrp.wsman import WSMan

from aiohyperv.simulator import HostSpec, SimulatedHost, SimulatorServer, VMState

from .test_pypsrp import BASE, CS_URI, A, Selectors, W, enumerate_wql, prop

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")
S = "http://www.w3.org/2003/05/soap-envelope"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
SNAP_URI = BASE + "Msvm_VirtualSystemSnapshotService"
MIGRATION_URI = BASE + "Msvm_VirtualSystemMigrationService"


def wsman_for(srv: SimulatorServer, index: int) -> WSMan:
    return WSMan(
        "127.0.0.1",
        port=srv.endpoints[index][1],
        username="admin",
        password="secret",
        ssl=False,
        auth="basic",
        encryption="never",
        operation_timeout=10,
        read_timeout=15,
    )


async def in_thread(srv: SimulatorServer, work: Callable[[WSMan], T], index: int = 0) -> T:
    def run() -> T:
        wsman = wsman_for(srv, index)
        try:
            return work(wsman)
        finally:
            wsman.close()

    return await asyncio.to_thread(run)


def epr(parent: ET.Element, tag: str, resource_uri: str, **selectors: str) -> None:
    node = ET.SubElement(parent, tag)
    ET.SubElement(node, f"{{{A}}}Address").text = ANONYMOUS
    params = ET.SubElement(node, f"{{{A}}}ReferenceParameters")
    ET.SubElement(params, f"{{{W}}}ResourceURI").text = resource_uri
    selector_set = ET.SubElement(params, f"{{{W}}}SelectorSet")
    for name, value in selectors.items():
        ET.SubElement(selector_set, f"{{{W}}}Selector", Name=name).text = value


def service_selectors(host: SimulatedHost, class_name: str, name: str) -> dict[str, str]:
    return {
        "CreationClassName": class_name,
        "Name": name,
        "SystemCreationClassName": "Msvm_ComputerSystem",
        "SystemName": host.computer_name,
    }


def output_of(response: ET.Element, uri: str, method: str) -> ET.Element:
    out = response.find(f"{{{S}}}Body/{{{uri}}}{method}_OUTPUT")
    assert out is not None
    return out


def job_state(wsman: WSMan, out: ET.Element, uri: str) -> tuple[str, str | None]:
    job_id = out.findtext(
        f"{{{uri}}}Job/{{{A}}}ReferenceParameters/{{{W}}}SelectorSet/"
        f"{{{W}}}Selector[@Name='InstanceID']"
    )
    (job,) = enumerate_wql(wsman, f"SELECT * FROM Msvm_ConcreteJob WHERE InstanceID = '{job_id}'")
    return prop(job, "JobState") or "", prop(job, "ErrorDescription")


async def test_pypsrp_create_snapshot() -> None:
    host = SimulatedHost.generate(HostSpec(name="hv31", vms=3, seed=31, job_duration=0))
    vm = next(iter(host.vms.values()))
    settings = (
        '<INSTANCE CLASSNAME="Msvm_VirtualSystemSnapshotSettingData">'
        '<PROPERTY NAME="ConsistencyLevel" TYPE="uint8"><VALUE>2</VALUE></PROPERTY>'
        "</INSTANCE>"
    )

    def work(wsman: WSMan) -> tuple[str, str, str, list[ET.Element], list[ET.Element]]:
        body = ET.Element(f"{{{SNAP_URI}}}CreateSnapshot_INPUT")
        epr(body, f"{{{SNAP_URI}}}AffectedSystem", CS_URI,
            CreationClassName="Msvm_ComputerSystem", Name=vm.guid)  # fmt: skip
        ET.SubElement(body, f"{{{SNAP_URI}}}SnapshotSettings").text = settings
        ET.SubElement(body, f"{{{SNAP_URI}}}SnapshotType").text = "2"
        response = wsman.invoke(
            SNAP_URI + "/CreateSnapshot",
            SNAP_URI,
            body,
            selector_set=Selectors.of(
                **service_selectors(host, "Msvm_VirtualSystemSnapshotService", "vssnapsvc")
            ),
        )
        out = output_of(response, SNAP_URI, "CreateSnapshot")
        snapshot_id = out.findtext(
            f"{{{SNAP_URI}}}ResultingSnapshot/{{{A}}}ReferenceParameters/{{{W}}}SelectorSet/"
            f"{{{W}}}Selector[@Name='InstanceID']"
        )
        state, _why = job_state(wsman, out, SNAP_URI)
        listed = enumerate_wql(
            wsman,
            "SELECT * FROM Msvm_VirtualSystemSettingData"
            " WHERE VirtualSystemType = 'Microsoft:Hyper-V:Snapshot:Realized'",
        )
        related = enumerate_wql(
            wsman,
            "ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',"
            f"Name='{vm.guid}'}} WHERE AssocClass = Msvm_SnapshotOfVirtualSystem"
            " ResultClass = Msvm_VirtualSystemSettingData",
        )
        return (
            out.findtext(f"{{{SNAP_URI}}}ReturnValue") or "",
            snapshot_id or "",
            state,
            (listed),
            related,
        )

    async with SimulatorServer([host]) as srv:
        ret, snapshot_id, state, listed, related = await in_thread(srv, work)
    assert ret == "4096"
    assert state == "7"  # Completed
    assert snapshot_id.startswith("Microsoft:")
    assert [prop(i, "InstanceID") for i in listed] == [snapshot_id]
    assert prop(listed[0], "VirtualSystemIdentifier") == vm.guid
    assert [prop(i, "InstanceID") for i in related] == [snapshot_id]
    (snap,) = vm.snapshots
    assert snap.consistency == 2 and vm.current_snapshot == snap.guid


async def test_pypsrp_migrate_virtual_system_to_host() -> None:
    src = SimulatedHost.generate(HostSpec(name="hv41", vms=3, seed=41, job_duration=0))
    dst = SimulatedHost.generate(HostSpec(name="hv42", vms=1, seed=42, job_duration=0))
    dst.switches = list(src.switches)
    vm = next(v for v in src.vms.values() if v.state != VMState.PAUSED)
    settings = (
        '<INSTANCE CLASSNAME="Msvm_VirtualSystemMigrationSettingData">'
        '<PROPERTY NAME="MigrationType" TYPE="uint16"><VALUE>32768</VALUE></PROPERTY>'
        '<PROPERTY NAME="TransportType" TYPE="uint16"><VALUE>5</VALUE></PROPERTY>'
        "</INSTANCE>"
    )

    def migrate(destination: str) -> Callable[[WSMan], tuple[str, str, str | None]]:
        def work(wsman: WSMan) -> tuple[str, str, str | None]:
            body = ET.Element(f"{{{MIGRATION_URI}}}MigrateVirtualSystemToHost_INPUT")
            epr(body, f"{{{MIGRATION_URI}}}ComputerSystem", CS_URI,
                CreationClassName="Msvm_ComputerSystem", Name=vm.guid)  # fmt: skip
            ET.SubElement(body, f"{{{MIGRATION_URI}}}DestinationHost").text = destination
            ET.SubElement(body, f"{{{MIGRATION_URI}}}MigrationSettingData").text = settings
            response = wsman.invoke(
                MIGRATION_URI + "/MigrateVirtualSystemToHost",
                MIGRATION_URI,
                body,
                selector_set=Selectors.of(
                    **service_selectors(
                        src, "Msvm_VirtualSystemMigrationService", "vsmigrationservice"
                    )
                ),
            )
            out = output_of(response, MIGRATION_URI, "MigrateVirtualSystemToHost")
            ret = out.findtext(f"{{{MIGRATION_URI}}}ReturnValue") or ""
            return ret, *job_state(wsman, out, MIGRATION_URI)

        return work

    def on_destination(wsman: WSMan) -> list[ET.Element]:
        return enumerate_wql(wsman, f"SELECT * FROM Msvm_ComputerSystem WHERE Name = '{vm.guid}'")

    async with SimulatorServer([src, dst]) as srv:
        refused = await in_thread(srv, migrate("no-such-host"))
        ret, state, _why = await in_thread(srv, migrate("hv42"))
        arrived = await in_thread(srv, on_destination, index=1)
    assert refused[:2] == ("4096", "10")  # the job ends in Exception
    assert "No such host is known" in (refused[2] or "")
    assert (ret, state) == ("4096", "7")
    assert [prop(i, "ElementName") for i in arrived] == [vm.name]
    assert vm.guid not in src.vms and dst.vms[vm.guid] is vm
