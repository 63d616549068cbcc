"""Fault injection knobs for one simulated host."""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["FaultConfig"]


@dataclass(slots=True, kw_only=True)
class FaultConfig:
    """What can go wrong with one simulated host, changeable while it serves.

    The knobs are read on every request, so a test can flip them between calls.  Rates are
    probabilities in ``[0, 1]`` drawn from the host's own seeded random generator, so a fleet
    with the same seed fails the same way every run.

    Attributes:
        latency: seconds added before every answer.
        jitter: up to this many extra seconds, drawn uniformly per request.
        refuse_connections: the listener is closed, so connecting fails with "connection
            refused".  :class:`SimulatorServer` closes and reopens the socket when you call
            :meth:`SimulatorServer.apply_faults`; an app served some other way (``make_app`` under
            pytest-aiohttp) cannot close its listener and drops each connection instead.
        reset_rate: chance that a response is cut off mid-body and the connection reset.
        slow_body: seconds spread over sending each response body, in small chunks.
        unauthorized: every request gets HTTP 401, even with the right password (with NTLM
            the connection handshake still completes; the messages on it get the 401).
        fault_rate: chance that a request gets an HTTP 500 ``w:InternalError`` SOAP fault.
        pull_timeouts: the next this-many Pulls get the ``w:TimedOut`` fault Windows sends
            when nothing arrived within OperationTimeout (the context stays valid).
        pull_timeout_rate: chance that any Pull gets that fault.
        fail_jobs: every job started from now on ends in JobState 10 (Exception) with an
            ErrorCode and ErrorDescription, and its change is not made.
        bad_xml_rate: chance that a 200 response carries a truncated, ill-formed XML body.
        max_concurrent_operations: WinRM's ``MaxConcurrentOperationsPerUser`` quota (Windows
            ships 1500; None: no quota): a request that arrives while this many are being
            answered gets the ``w:InternalError`` fault with Code 2150859174 (0x803381A6,
            ``ERROR_WSMAN_QUOTA_MAX_OPERATIONS``).  0 refuses every request.
        unregistered_classes: lower-cased names of WMI classes this host does not have, as on
            a host whose Hyper-V performance counters are not installed (no
            ``win32_perfrawdata_hvstats_hypervhypervisorvirtualprocessor``): a query on one
            fails as on any unknown class, ``n:CannotProcessFilter``.
    """

    latency: float = 0.0
    jitter: float = 0.0
    refuse_connections: bool = False
    reset_rate: float = 0.0
    slow_body: float = 0.0
    unauthorized: bool = False
    fault_rate: float = 0.0
    pull_timeouts: int = 0
    pull_timeout_rate: float = 0.0
    fail_jobs: bool = False
    bad_xml_rate: float = 0.0
    max_concurrent_operations: int | None = None
    unregistered_classes: frozenset[str] = frozenset()

    def reset(self) -> None:
        """Turn every fault off."""
        clean = FaultConfig()
        for field in fields(self):
            setattr(self, field.name, getattr(clean, field.name))
