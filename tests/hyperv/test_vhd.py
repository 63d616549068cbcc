"""Disk image facts through Msvm_ImageManagementService on a simulated 2019 host."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from aiohyperv._exceptions import CimMethodError, InvalidOperation, NotFound
from aiohyperv.cim import CimType, EmbeddedInstance
from aiohyperv.hyperv import DiskImageInfo, connect
from aiohyperv.hyperv._vhd import read_disk_image
from aiohyperv.testing import HostSpec, run_simulator

from .conftest import AUTH

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohyperv.hyperv import HyperVConnection
    from aiohyperv.simulator import SimulatorServer


@pytest.fixture
async def v2() -> AsyncIterator[tuple[HyperVConnection, SimulatorServer]]:
    spec = HostSpec(name="hv01", os="2019", vms=4, seed=3, job_duration=0.02)
    async with run_simulator(spec) as server, connect(server.uris[0], auth=AUTH) as conn:
        yield conn, server


async def test_block_info_of_each_disk(v2: tuple[HyperVConnection, SimulatorServer]) -> None:
    conn, sim = v2
    for dom in await conn.list_domains():
        definition = await dom.definition()
        disks = [d for d in definition.disks if d.device == "disk" and d.source]
        assert disks
        for disk in disks:
            assert disk.target_dev and disk.source
            info = await dom.block_info(disk.target_dev)
            assert isinstance(info, DiskImageInfo)
            assert info.path == disk.source
            assert info.format == "vhdx"
            assert info.type in ("fixed", "dynamic")
            assert info.capacity is not None and info.capacity >= 40 * 1024**3
            assert info.file_size is not None and info.file_size > 0
            if info.type == "fixed":
                assert info.file_size > info.capacity and info.block_size == 0
            else:
                assert info.file_size < info.capacity and info.block_size == 32 * 1024**2
            assert info.in_use == (sim.hosts[0].vms[dom.guid].is_on)
            assert await dom.block_info(disk.source) == info  # by path, same answer


async def test_missing_disk_and_file(v2: tuple[HyperVConnection, SimulatorServer]) -> None:
    conn, _sim = v2
    dom = (await conn.list_domains())[0]
    with pytest.raises(NotFound):
        await dom.block_info("sdz")
    with pytest.raises(CimMethodError) as info:
        await conn.disk_image_info("C:\\nowhere\\missing.vhdx")
    assert info.value.return_value == 32779  # File not found
    with pytest.raises(CimMethodError) as info:
        await conn.disk_image_info("C:\\ISO\\en-us_windows_server_x64.iso")
    assert info.value.return_value == 32773  # not a virtual hard disk


async def test_v1_refuses() -> None:
    spec = HostSpec(name="hv01", os="2008R2", vms=1, seed=3)
    async with run_simulator(spec) as server, connect(server.uris[0], auth=AUTH) as conn:
        with pytest.raises(InvalidOperation):
            await conn.disk_image_info("C:\\a.vhd")


def test_read_disk_image_maps_codes() -> None:
    settings = EmbeddedInstance("Msvm_VirtualHardDiskSettingData")
    settings.set("Type", CimType.UINT16, 4).set("Format", CimType.UINT16, 2)
    settings.set("MaxInternalSize", CimType.UINT64, 1000)
    settings.set("ParentPath", CimType.STRING, "C:\\base.vhd")
    state = EmbeddedInstance("Msvm_VirtualHardDiskState").set("FileSize", CimType.UINT64, 10)
    info = read_disk_image("C:\\diff.vhd", settings, state)
    assert (info.type, info.format, info.capacity, info.file_size) == (
        "differencing", "vhd", 1000, 10,
    )  # fmt: skip
    assert info.parent_path == "C:\\base.vhd"
    assert read_disk_image("x", None, None).capacity is None
