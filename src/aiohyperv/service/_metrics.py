"""``/metrics`` in the Prometheus text format, built by ``prometheus_client`` from the
service's in-memory view at scrape time (a custom collector in a private registry: nothing
global, nothing kept between scrapes).

Cardinality is bounded by the fleet: per-host series carry one ``host`` label (one per
configured host) and ``state`` (a handful of VM states).  Per-VM series are off unless
``metrics_vm_limit`` is set, and then at most that many VMs (the first by host and name) get
them; ``aiohyperv_vm_series_omitted`` says how many were left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector

from ._scheduler import DURATION_BUCKETS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from prometheus_client.metrics_core import Metric

    from aiohyperv import PoolStats

    from ._events import EventBroker
    from ._records import HostRecord
    from ._scheduler import RunStats, Scheduler

__all__ = ["CONTENT_TYPE", "ServiceCollector", "render_metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class ServiceCollector(Collector):
    """Reads the service's state on each scrape."""

    def __init__(
        self,
        *,
        hosts: Mapping[str, HostRecord],
        stats: Callable[[], RunStats],
        scheduler: Callable[[], Scheduler | None],
        broker: EventBroker,
        pool: Callable[[], PoolStats | None] = lambda: None,
        vm_limit: int = 0,
    ) -> None:
        self._hosts = hosts
        self._stats = stats
        self._scheduler = scheduler
        self._broker = broker
        self._pool = pool
        self._vm_limit = vm_limit

    def collect(self) -> Iterator[Metric]:
        yield from self._host_metrics()
        yield from self._run_metrics()
        yield from self._pool_metrics()
        yield from self._vm_metrics()

    def _pool_metrics(self) -> Iterator[Metric]:
        stats = self._pool()
        if stats is None:
            return
        for name, doc, value in (
            ("connections_opened", "TCP connections the client opened", stats.opened),
            ("requests_reused", "Requests sent over a kept-alive connection", stats.reused),
            ("http_requests", "HTTP requests the client sent", stats.requests),
            ("request_failures", "Requests that ended in a transport error", stats.failed),
            ("request_retries", "Requests sent again after a retryable failure", stats.retried),
        ):
            yield CounterMetricFamily(f"aiohyperv_client_{name}", doc, value=value)
        for name, doc, value in (
            ("hosts", "Hosts the client's pool holds state for", stats.hosts),
            ("connections", "TCP connections open now", stats.connections),
            ("requests_in_flight", "Requests holding a connection now", stats.in_flight),
            ("requests_queued", "Requests waiting for a slot or a connection", stats.queued),
        ):
            yield GaugeMetricFamily(f"aiohyperv_client_{name}", doc, value=value)

    def _host_metrics(self) -> Iterator[Metric]:
        def gauge(name: str, doc: str, labels: tuple[str, ...] = ("host",)) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"aiohyperv_host_{name}", doc, labels=list(labels))

        up = gauge("up", "1 when the latest run reached the host, else 0")
        last = gauge("last_success_timestamp_seconds", "When the host last answered (unix time)")
        duration = gauge("inventory_duration_seconds", "How long the host's latest run took")
        requests = gauge("wsman_requests", "WS-Management requests of the host's latest run")
        vms = gauge("vms", "VMs on the host by state (as of its last success)", ("host", "state"))
        total = gauge("memory_total_bytes", "Physical memory of the host")
        free = gauge("memory_free_bytes", "Free physical memory of the host")
        assigned = gauge("memory_assigned_bytes", "Startup memory of the VMs that are on")
        demand = gauge("memory_demand_bytes", "Memory the running guests use")
        vcpus = gauge("vcpus", "Virtual processors of the VMs that are on")
        for name, host in sorted(self._hosts.items()):
            up.add_metric([name], 1.0 if host.ok else 0.0)
            if host.last_success is not None:
                last.add_metric([name], host.last_success)
            duration.add_metric([name], host.elapsed)
            requests.add_metric([name], float(host.requests))
            for state, count in sorted(host.vm_states().items()):
                vms.add_metric([name, state], float(count))
            if host.memory_total is not None:
                total.add_metric([name], float(host.memory_total))
            if host.memory_free is not None:
                free.add_metric([name], float(host.memory_free))
            assigned.add_metric([name], float(host.memory_assigned))
            demand.add_metric([name], float(host.memory_demand))
            vcpus.add_metric([name], float(host.vcpus))
        yield from (up, last, duration, requests, vms, total, free, assigned, demand, vcpus)
        hosts = GaugeMetricFamily(
            "aiohyperv_hosts", "Configured hosts by reachability", labels=["status"]
        )
        reachable = sum(1 for h in self._hosts.values() if h.ok)
        hosts.add_metric(["up"], float(reachable))
        hosts.add_metric(["down"], float(len(self._hosts) - reachable))
        yield hosts

    def _run_metrics(self) -> Iterator[Metric]:
        stats = self._stats()
        yield CounterMetricFamily("aiohyperv_runs", "Inventory runs finished", value=stats.runs)
        yield CounterMetricFamily(
            "aiohyperv_run_errors", "Runs that failed as a whole", value=stats.run_errors
        )
        yield CounterMetricFamily(
            "aiohyperv_run_host_failures",
            "Hosts that failed, summed over every run",
            value=stats.host_failures,
        )
        yield CounterMetricFamily(
            "aiohyperv_wsman_requests",
            "WS-Management requests sent by the runs (the fleet client's own count)",
            value=stats.requests,
        )
        changes = CounterMetricFamily(
            "aiohyperv_changes", "Changes detected, by kind", labels=["kind"]
        )
        for kind, count in sorted(stats.changes.items()):
            changes.add_metric([kind], float(count))
        yield changes
        buckets = [
            (f"{b:g}", float(c))
            for b, c in zip(DURATION_BUCKETS, stats.duration_buckets, strict=True)
        ]
        buckets.append(("+Inf", float(stats.runs)))
        yield HistogramMetricFamily(
            "aiohyperv_run_duration_seconds",
            "Wall time of whole-fleet runs",
            buckets=buckets,
            sum_value=stats.duration_sum,
        )
        if stats.last_run is not None:
            run = stats.last_run
            yield GaugeMetricFamily(
                "aiohyperv_last_run_timestamp_seconds",
                "When the latest run finished (unix time)",
                value=run.finished,
            )
            yield GaugeMetricFamily(
                "aiohyperv_last_run_duration_seconds",
                "Wall time of the latest run",
                value=run.duration,
            )
            result = GaugeMetricFamily(
                "aiohyperv_last_run_hosts", "Hosts of the latest run by result", labels=["result"]
            )
            result.add_metric(["ok"], float(run.succeeded))
            result.add_metric(["failed"], float(run.failed))
            yield result
        scheduler = self._scheduler()
        yield GaugeMetricFamily(
            "aiohyperv_run_in_progress",
            "1 while a run is in flight",
            value=1.0 if scheduler is not None and scheduler.running else 0.0,
        )
        yield GaugeMetricFamily(
            "aiohyperv_events_clients", "Live-feed clients connected", value=self._broker.clients
        )
        yield CounterMetricFamily(
            "aiohyperv_events_dropped_clients",
            "Live-feed clients dropped for reading too slowly",
            value=self._broker.dropped_clients,
        )

    def _vm_metrics(self) -> Iterator[Metric]:
        if self._vm_limit <= 0:
            return
        running = GaugeMetricFamily(
            "aiohyperv_vm_running", "1 when the VM is running", labels=["host", "vm"]
        )
        demand = GaugeMetricFamily(
            "aiohyperv_vm_memory_demand_bytes", "Memory the guest uses", labels=["host", "vm"]
        )
        vcpus = GaugeMetricFamily("aiohyperv_vm_vcpus", "Virtual processors", labels=["host", "vm"])
        shown = 0
        total = 0
        for name, host in sorted(self._hosts.items()):
            for vm in sorted(host.vms.values(), key=lambda v: (v.name, v.uuid)):
                total += 1
                if shown >= self._vm_limit:
                    continue
                shown += 1
                running.add_metric([name, vm.name], 1.0 if vm.state == "running" else 0.0)
                demand.add_metric([name, vm.name], float(vm.demand_bytes))
                vcpus.add_metric([name, vm.name], float(vm.vcpus or 0))
        yield from (running, demand, vcpus)
        yield GaugeMetricFamily(
            "aiohyperv_vm_series_omitted",
            "VMs left out of the per-VM series by the limit",
            value=float(total - shown),
        )


def render_metrics(collector: ServiceCollector) -> bytes:
    """The exposition text for one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry)
