"""Read-only checks against a real Hyper-V host, when ``AIOHYPERV_HOST`` names one.

``AIOHYPERV_HOST`` is a connection URI (``hyperv://admin@hv01/`` or with
``?transport=http``); credentials come from ``AIOHYPERV_USERNAME``/``AIOHYPERV_PASSWORD``.
Nothing is changed on the host: the connection is read-only.
"""

from __future__ import annotations

import os

import pytest

from aiohyperv.hyperv import connect, parse_domain

pytestmark = [
    pytest.mark.realhost,
    pytest.mark.skipif(not os.environ.get("AIOHYPERV_HOST"), reason="AIOHYPERV_HOST not set"),
]


async def test_real_host_read_only_tour() -> None:
    async with connect(os.environ["AIOHYPERV_HOST"], read_only=True) as conn:
        assert await conn.get_version() > 600_000_000
        assert await conn.get_hostname()
        info = await conn.node_info()
        assert info.cpus > 0 and info.memory > 0
        assert "<capabilities>" in await conn.get_capabilities()
        assert await conn.is_alive()
        for dom in await conn.list_domains():
            definition = parse_domain(await dom.xml_desc())
            assert definition.uuid == dom.uuid
            assert (await dom.info()).nr_virt_cpu == definition.vcpus


async def test_real_host_read_only_beyond_libvirt() -> None:
    # Statistics, checkpoints, disk images and guest reports are all reads: a read-only
    # connection may make them (GetSummaryInformation and the image service's Get* methods
    # change nothing).
    async with connect(os.environ["AIOHYPERV_HOST"], read_only=True) as conn:
        stats = {s.uuid: s for s in await conn.summary()}
        domains = await conn.list_domains()
        assert set(stats) == {d.uuid for d in domains}
        if conn.namespace != "v2":
            return
        for dom in domains:
            await dom.snapshot_list()
            await dom.guest_info()
            for disk in (await dom.definition()).disks:
                if disk.device == "disk" and disk.source and disk.target_dev:
                    info = await dom.block_info(disk.target_dev)
                    assert info.capacity and info.file_size
