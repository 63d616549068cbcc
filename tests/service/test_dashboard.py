"""The dashboard in a real headless browser (Debian's Chromium driven by Playwright): the pages
load without console errors, the tables show the simulated fleet, search, filters and sorting
work, a VM's page shows its history, and the live feed shows a VM's state change as soon as
the run that sees it is stored.

Skipped when Playwright or a Chromium binary is missing (``make`` installs both where it can).
Screenshots go to the test's temporary directory, and also to ``$AIOHYPERV_SCREENSHOT_DIR``
when set (that is how ``docs/serve-dashboard.png`` is made).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from aiohyperv.hyperv import connect
from aiohyperv.simulator import VMState
from aiohyperv.simulator._demo import FleetSpec, simulated_fleet

from .conftest import base_url, running_service

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aiohyperv.simulator._demo import DemoFleet

playwright_api = pytest.importorskip("playwright.async_api", reason="Playwright is not installed")

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
WAIT_MS = 30_000
expect = playwright_api.expect


def chromium_path() -> str | None:
    for candidate in (os.environ.get("AIOHYPERV_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium binary (apt-get install chromium)")
    async with playwright_api.async_playwright() as p:
        found = await p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield found
        finally:
            await found.close()


@pytest.fixture
async def fleet() -> AsyncIterator[DemoFleet]:
    spec = FleetSpec(hosts=6, vms=6, seed=11, latency_min=0.0, latency_max=0.0, jitter=0.0)
    async with simulated_fleet(spec, in_process=True) as demo:
        yield demo


def shots(tmp_path: Path) -> list[Path]:
    places = [tmp_path]
    extra = os.environ.get("AIOHYPERV_SCREENSHOT_DIR")
    if extra:
        places.append(Path(extra))
    return places


async def screenshot(page: Any, tmp_path: Path, name: str) -> None:
    for place in shots(tmp_path):
        place.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(place / name), full_page=True)


async def rows(page: Any, table: str) -> int:
    count: int = await page.locator(f"{table} tbody tr").count()
    return count


async def test_the_dashboard_shows_the_fleet_and_its_live_changes(
    browser: Any, fleet: DemoFleet, tmp_path: Path
) -> None:
    # A VM that is off now, to start while the page watches.
    index, guid = next(
        (i, vm.guid)
        for i, host in enumerate(fleet.hosts)
        for vm in host.all_vms()
        if vm.state == VMState.OFF
    )
    vm_name = fleet.hosts[index].vms[guid].name
    total_vms = sum(len(h.vms) for h in fleet.hosts)
    async with running_service(fleet, tmp_path) as service:
        assert service.scheduler is not None
        await service.scheduler.request()
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        url = base_url(service)

        # Overview: counts, charts, and the feed of what the first run found.
        await page.goto(f"{url}/#/")
        await expect(page.locator("#card-vms")).to_have_text(str(total_vms), timeout=WAIT_MS)
        assert await page.text_content("#card-up") == "6"
        assert await page.locator("#chart-states rect").count() >= 2
        assert await page.locator("#chart-memory rect").count() == 3 * 6
        assert await page.locator("#chart-hosts rect").count() == 6
        await page.wait_for_selector("#status.live", timeout=WAIT_MS)

        # The live feed: start the VM through the driver, run, and the change appears.
        async with connect(fleet.uris[index], auth=fleet.auth) as conn:
            await (await conn.lookup_domain_by_uuid(guid)).start()
        await service.scheduler.request()
        item = page.locator("#feed li[data-kind='vm_state_changed']", has_text=vm_name)
        await item.first.wait_for(timeout=WAIT_MS)
        assert "running" in (await item.first.text_content() or "")
        await screenshot(page, tmp_path, "serve-dashboard.png")

        # Hosts: one row per host; search narrows; a header click sorts.
        await page.click("nav a[data-view='hosts']")
        await expect(page.locator("#hosts-table tbody tr")).to_have_count(6, timeout=WAIT_MS)
        first_host = await page.get_attribute("#hosts-table tbody tr:first-child", "data-host")
        await page.fill("#hosts-search", first_host or "")
        assert await rows(page, "#hosts-table") == 1
        await page.fill("#hosts-search", "")
        await page.click("#hosts-table th[data-key='host']")  # already ascending: now descending
        hosts_desc = await page.eval_on_selector_all(
            "#hosts-table tbody tr", "rows => rows.map(r => r.dataset.host)"
        )
        assert hosts_desc == sorted(hosts_desc, reverse=True)
        await screenshot(page, tmp_path, "serve-hosts.png")

        # VMs: every VM; the state filter and the search narrow the table.
        await page.click("nav a[data-view='vms']")
        await expect(page.locator("#vms-table tbody tr")).to_have_count(total_vms, timeout=WAIT_MS)
        await page.select_option("#vms-state", "running")
        states = await page.eval_on_selector_all(
            "#vms-table tbody tr td:nth-child(3)", "cells => cells.map(c => c.textContent)"
        )
        assert states and set(states) == {"running"}
        await page.select_option("#vms-state", "")
        await page.fill("#vms-search", vm_name)
        assert await rows(page, "#vms-table") >= 1
        names = await page.eval_on_selector_all(
            "#vms-table tbody tr td:first-child", "cells => cells.map(c => c.textContent)"
        )
        assert all(vm_name.lower() in n.lower() for n in names)
        await screenshot(page, tmp_path, "serve-vms.png")

        # The VM's page: its fields and the state change in its history.
        await page.click(f"#vms-table tbody tr[data-uuid='{guid}'] a")
        await page.wait_for_selector("#vm-changes tbody tr td.kind", timeout=WAIT_MS)
        assert vm_name in (await page.text_content("#vm-title") or "")
        history = await page.text_content("#vm-changes")
        assert history is not None and "shut off" in history and "running" in history
        assert await rows(page, "#vm-samples") >= 2
        assert await page.locator("#vm-timeline rect").count() >= 2  # one band per sample
        assert await page.locator("#vm-timeline path.demand-line").count() == 1
        await screenshot(page, tmp_path, "serve-vm.png")

        # Changes: the full list, filterable.
        await page.click("nav a[data-view='changes']")
        await page.wait_for_selector("#changes-table tbody tr", timeout=WAIT_MS)
        await page.fill("#changes-search", vm_name)
        assert await rows(page, "#changes-table") >= 1
        await page.close()
    assert problems == []
    assert (tmp_path / "serve-dashboard.png").stat().st_size > 10_000
