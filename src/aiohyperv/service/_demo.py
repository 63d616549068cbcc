"""``serve --demo``: the simulated fleet, with VMs that change over time.

The fleet is served from this process (so its :class:`~aiohyperv.simulator.SimulatedHost`
objects can be changed), and :class:`DemoChurn` changes it every few seconds the ways a real
fleet changes: VMs are started, shut down, powered off, paused, resumed and saved through the
client driver (real ``RequestStateChange`` calls and jobs over WS-Management); now and then a
VM is created (``define_xml``) or one the churn created is removed (``undefine``); a VM is
renamed or resized, or a host fails for a while and recovers (the simulator's fault knobs).
Every view of the dashboard then has something to show.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohyperv._exceptions import HyperVError
from aiohyperv.hyperv import connect
from aiohyperv.simulator import VMState

if TYPE_CHECKING:
    from aiohyperv.simulator import VM, SimulatedHost
    from aiohyperv.simulator._demo import DemoFleet

__all__ = ["DemoChurn"]

log = logging.getLogger("aiohyperv.service")

#: A new VM as libvirt domain XML (what ``HyperVConnection.define_xml`` takes).
_NEW_VM = (
    "<domain type='hyperv'><name>{name}</name><memory unit='MiB'>2048</memory>"
    "<currentMemory unit='MiB'>2048</currentMemory><vcpu>2</vcpu>"
    "<os><type arch='x86_64'>hvm</type></os></domain>"
)


@dataclass(slots=True)
class _Outage:
    host: SimulatedHost
    steps_left: int


@dataclass(slots=True)
class DemoChurn:
    """Changes a simulated fleet a little at each :meth:`step`.

    Args:
        fleet: An in-process simulated fleet (``simulated_fleet(spec, in_process=True)``).
        seed: Makes the sequence of changes repeatable.
        changes_per_step: State changes per step.
        outages: Let hosts fail for a few steps now and then.
    """

    fleet: DemoFleet
    seed: int = 1
    changes_per_step: int = 2
    outages: bool = True
    rng: random.Random = field(init=False)
    steps: int = field(default=0, init=False)
    _outage: _Outage | None = field(default=None, init=False)
    #: VMs this churn created (host index, GUID): the only ones it removes again, so the
    #: fleet's size stays about the same however long the demo runs.
    _created: list[tuple[int, str]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"aiohyperv-churn:{self.seed}")

    def _uri(self, host: SimulatedHost) -> str:
        return self.fleet.uris[self.fleet.hosts.index(host)]

    async def step(self) -> list[str]:
        """Make this step's changes; return what was done, as short texts."""
        self.steps += 1
        done: list[str] = []
        rng = self.rng
        hosts = [h for h in self.fleet.hosts if self._outage is None or h is not self._outage.host]
        for _ in range(self.changes_per_step):
            host = rng.choice(hosts)
            vms = [vm for vm in host.all_vms() if vm.pending is None]
            if vms:
                text = await self._change_state(host, rng.choice(vms))
                if text:
                    done.append(text)
        if rng.random() < 0.15:
            host = rng.choice(hosts)
            vm = rng.choice(list(host.vms.values()))
            if vm.stored_resources is None:  # generated settings follow the record
                base = vm.name.split("~", 1)[0]
                vm.name = f"{base}~{rng.randrange(100, 999)}"
                done.append(f"renamed {base} to {vm.name} on {host.spec.name}")
        if rng.random() < 0.15:
            host = rng.choice(hosts)
            vm = rng.choice(list(host.vms.values()))
            if vm.stored_resources is None:
                vm.memory_mb = rng.choice((2048, 4096, 8192, 16384))
                done.append(f"set {vm.name} memory to {vm.memory_mb} MiB on {host.spec.name}")
        if rng.random() < 0.08:
            done.extend(await self._create_or_remove(hosts))
        done.extend(self._outages(hosts))
        for text in done:
            log.debug("demo: %s", text)
        return done

    def _outages(self, hosts: list[SimulatedHost]) -> list[str]:
        if not self.outages:
            return []
        outage = self._outage
        if outage is not None:
            outage.steps_left -= 1
            if outage.steps_left <= 0:
                outage.host.faults.fault_rate = 0.0
                self._outage = None
                return [f"{outage.host.spec.name} recovered"]
            return []
        if len(hosts) > 1 and self.rng.random() < 0.08:
            host = self.rng.choice(hosts)
            host.faults.fault_rate = 1.0  # every request gets a WMI fault
            self._outage = _Outage(host=host, steps_left=self.rng.randrange(3, 8))
            return [f"{host.spec.name} is failing"]
        return []

    async def _create_or_remove(self, hosts: list[SimulatedHost]) -> list[str]:
        rng = self.rng
        try:
            if self._created and (len(self._created) >= 3 or rng.random() < 0.4):
                index, guid = self._created.pop(0)
                host = self.fleet.hosts[index]
                async with connect(self.fleet.uris[index], auth=self.fleet.auth) as conn:
                    domain = await conn.lookup_domain_by_uuid(guid)
                    if await domain.is_active():
                        await domain.destroy()
                    name = domain.name
                    await domain.undefine()
                return [f"removed {name} from {host.spec.name}"]
            host = rng.choice(hosts)
            index = self.fleet.hosts.index(host)
            name = f"new-{rng.randrange(1000, 9999)}"
            async with connect(self.fleet.uris[index], auth=self.fleet.auth) as conn:
                domain = await conn.define_xml(_NEW_VM.format(name=name))
            self._created.append((index, domain.guid))
            return [f"created {name} on {host.spec.name}"]
        except HyperVError as exc:
            log.debug("demo: create/remove failed: %s", exc)
            return []

    async def _change_state(self, host: SimulatedHost, vm: VM) -> str | None:
        state = vm.state
        rng = self.rng
        if state == VMState.RUNNING:
            action = rng.choice(("shutdown", "stop", "suspend", "save")) if vm.shutdown_ic else (
                rng.choice(("stop", "suspend", "save"))
            )  # fmt: skip
        elif state in (VMState.PAUSED, VMState.V1_PAUSED):
            action = "resume"
        else:
            action = "start"
        try:
            async with connect(self._uri(host), auth=self.fleet.auth) as conn:
                domain = await conn.lookup_domain_by_uuid(vm.guid)
                if action == "start":
                    await domain.start()
                elif action == "shutdown":
                    await domain.shutdown()
                elif action == "stop":
                    await domain.destroy()
                elif action == "suspend":
                    await domain.suspend()
                elif action == "resume":
                    await domain.resume()
                else:
                    await domain.managed_save()
        except HyperVError as exc:
            log.debug("demo: %s %s failed: %s", action, vm.name, exc)
            return None
        return f"{action} {vm.name} on {host.spec.name}"

    async def run(self, period: float, stop: asyncio.Event) -> None:
        """Step every ``period`` seconds until ``stop`` is set."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(period):
                    await stop.wait()
            if stop.is_set():
                return
            try:
                await self.step()
            except Exception:
                log.exception("demo churn step failed")
