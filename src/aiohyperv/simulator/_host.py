"""The state of one simulated Hyper-V host: hardware, VMs, jobs, enumeration contexts.

Generation is deterministic: the same :class:`HostSpec` (name, OS, VM count, seed) always gives
the same host name, VM GUIDs, names, MAC addresses, disk paths and power states.  Only a compact
record per VM is kept; the WMI instances (settings, devices, associations) are built from it
when a request asks for them (see ``_providers``), so 10,000 VMs cost a few megabytes.

Time is simulated on a monotonic clock (injectable for tests).  State changes are lazy: a VM
whose transition has finished settles the next time anyone looks at it, so no background tasks
run and an idle fleet costs nothing.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Literal

from aiohyperv._exceptions import ConfigError
from aiohyperv.simulator._faults import FaultConfig
from aiohyperv.simulator._locale import LOCALES
from aiohyperv.wsman._ns import NAMESPACE_V1, NAMESPACE_V2

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from aiohyperv.simulator._auth import CertificateMapping
    from aiohyperv.simulator._instance import Instance

__all__ = [
    "AUTH_DEFAULTS",
    "OS_PROFILES",
    "VM",
    "AuthDefaults",
    "EnumerationContext",
    "HostSpec",
    "Job",
    "OSProfile",
    "Resource",
    "SimulatedHost",
    "Snapshot",
    "Transition",
    "VMState",
    "rng_guid",
]


# --- operating systems ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OSProfile:
    """What a Windows Server release looks like over WMI."""

    key: str
    version: str
    caption: str
    csd_version: str | None
    namespace: str
    vm_version: str
    older_vm_versions: tuple[str, ...]
    max_vcpus: int
    generation2: bool
    stack: str
    #: WinRM's ``MaxEnvelopeSizekb``: 150 on 2008 R2, 500 from Server 2012 on (MS-WSMV
    #: 2.2.4.10).  A request asking for more gets this much (MS-WSMV 3.1.4.1.7).
    max_envelope_kb: int = 500

    @property
    def build(self) -> str:
        """``BuildNumber`` (the third part of ``Version``)."""
        return self.version.rsplit(".", 1)[1]

    @property
    def year(self) -> int:
        """The release year (2008 ... 2025)."""
        return int(self.key[:4])

    @property
    def service_pack(self) -> int:
        """``ServicePackMajorVersion``."""
        return 1 if self.csd_version else 0

    @property
    def v1(self) -> bool:
        """True for the 2008 R2 ``root/virtualization`` provider."""
        return self.namespace == NAMESPACE_V1


OS_PROFILES: dict[str, OSProfile] = {
    p.key: p
    for p in (
        # 2008 R2 really writes its Caption with a trailing space.
        OSProfile(
            "2008R2",
            "6.1.7601",
            "Microsoft Windows Server 2008 R2 Datacenter ",
            "Service Pack 1",
            NAMESPACE_V1,
            "",
            (),
            4,
            False,
            "2.0",
            max_envelope_kb=150,
        ),
        OSProfile(
            "2012",
            "6.2.9200",
            "Microsoft Windows Server 2012 Datacenter",
            None,
            NAMESPACE_V2,
            "4.0",
            (),
            64,
            False,
            "3.0",
        ),
        OSProfile(
            "2012R2",
            "6.3.9600",
            "Microsoft Windows Server 2012 R2 Datacenter",
            None,
            NAMESPACE_V2,
            "5.0",
            ("4.0",),
            64,
            True,
            "3.0",
        ),
        OSProfile(
            "2016",
            "10.0.14393",
            "Microsoft Windows Server 2016 Datacenter",
            None,
            NAMESPACE_V2,
            "8.0",
            ("5.0", "7.0"),
            240,
            True,
            "3.0",
        ),
        OSProfile(
            "2019",
            "10.0.17763",
            "Microsoft Windows Server 2019 Datacenter",
            None,
            NAMESPACE_V2,
            "9.0",
            ("8.0", "5.0"),
            240,
            True,
            "3.0",
        ),
        OSProfile(
            "2022",
            "10.0.20348",
            "Microsoft Windows Server 2022 Datacenter",
            None,
            NAMESPACE_V2,
            "10.0",
            ("9.0", "8.0"),
            1024,
            True,
            "3.0",
        ),
        OSProfile(
            "2025",
            "10.0.26100",
            "Microsoft Windows Server 2025 Datacenter",
            None,
            NAMESPACE_V2,
            "12.0",
            ("11.0", "10.0", "9.0"),
            2048,
            True,
            "3.0",
        ),
    )
}


class VMState(IntEnum):
    """``Msvm_ComputerSystem.EnabledState`` values (v2 unless marked v1)."""

    UNKNOWN = 0
    RUNNING = 2
    OFF = 3
    SHUTTING_DOWN = 4
    SAVED = 6
    PAUSED = 9
    STARTING = 10
    SAVING = 32773
    PAUSING = 32776
    RESUMING = 32777
    # v1 (2008 R2) numbers
    V1_PAUSED = 32768
    V1_SUSPENDED = 32769
    V1_STARTING = 32770
    V1_STOPPING = 32774


# --- records --------------------------------------------------------------------------------------
AuthDefaults = Literal["lab", "windows"]

#: Authentication presets for :class:`HostSpec` (``aiohyperv simulate --auth-defaults``).
#:
#: ``lab`` (the simulator's default): Basic and plaintext HTTP bodies accepted, as on a host
#: someone ran ``winrm quickconfig`` on and then set ``Auth/Basic`` and ``AllowUnencrypted`` to
#: true -- what Basic-only clients (libvirt's driver) need.
#:
#: ``windows``: a fresh Windows Server (``Service/Auth/Basic=false``,
#: ``Service/AllowUnencrypted=false``): a 401 lists only ``Negotiate``; over HTTP every body must
#: come sealed with WinRM message encryption (a plaintext body gets 401); over HTTPS, NTLM
#: without sealing is fine.
AUTH_DEFAULTS: dict[str, dict[str, bool]] = {
    "lab": {"allow_basic": True, "allow_unencrypted": True},
    "windows": {"allow_basic": False, "allow_unencrypted": False},
}

# What pyspnego's NTLM user file (DOMAIN:USER:PASSWORD lines) cannot hold.
_UNSAFE_CREDENTIAL_CHARS = frozenset(":\r\n\x00")


@dataclass(frozen=True, slots=True, kw_only=True)
class HostSpec:
    """How to generate one simulated host.

    Authentication works like WinRM's service settings.  The account (``username``/``password``)
    is a local account: it logs on as ``admin``, ``.\\admin`` or ``HV01\\admin`` (the computer
    name as domain), case-insensitively, through Basic (if allowed), NTLM via ``Negotiate``
    (always) or a mapped client certificate (HTTPS).  A ``username`` of ``CORP\\admin`` makes it
    a domain account instead, accepted only with that domain.

    Attributes:
        name: the host's computer name (``hv01``); NetBIOS form is upper-cased.
        os: ``2008R2``, ``2012``, ``2012R2``, ``2016``, ``2019``, ``2022`` or ``2025``.
            2008 R2 serves ``root/virtualization`` (WMI v1); the others ``.../v2``.
        vms: how many VMs to generate.
        seed: generation seed; the same spec always gives the same host.
        username: the account the host accepts (case-insensitive, like Windows).
        password: its password (never shown in repr).
        job_duration: simulated seconds a job (state change, VSMS method) takes.
        context_timeout: seconds an idle enumeration context lives before it expires.
        allow_basic: accept ``Authorization: Basic`` (``Service/Auth/Basic``).  Default true
            (the ``lab`` preset); Windows ships with false.
        allow_unencrypted: accept plaintext SOAP bodies over HTTP
            (``Service/AllowUnencrypted``).  Default true; Windows ships with false, and then
            only bodies sealed with WinRM message encryption (NTLM) get through over HTTP.
        client_certificates: client certificate mappings (``WSMan:\\localhost\\ClientCertificate``)
            for certificate authentication over HTTPS; each maps a certificate's UPN (or
            e-mail, or CN; ``*`` for any) to an account of this host.  The server must be
            given the issuing CA (``SimulatorServer(client_ca_pem=...)``).
        batching: ``"windows"`` (default): an optimized EnumerateResponse carries only the
            first item, whatever MaxElements says, and each Pull as many as fit the envelope,
            as the WMI plugin answers; ``"full"``: every response carries up to MaxElements
            items (still bounded by the envelope), for benchmarks that want fewer round trips.
        locale: the host's display language (``en-US``, ``de-DE``, ``ja-JP``, ``zh-CN``): the
            texts Windows localizes (Caption, Description, StatusDescriptions, fault texts)
            come in that language.
        kerberos_keytab: path of a keytab with this host's service keys: the host then
            accepts Kerberos (the ``Kerberos`` scheme, and Kerberos inside ``Negotiate``) as a
            domain member does.  The principal ``user@REALM`` logs on as the account
            ``username`` (``REALM\\user``, ``CORP\\user`` for ``CORP.EXAMPLE``, or a local
            ``user``).  None (default): NTLM only, as on a workgroup host.
        service_principal: the principal clients must ask a ticket for
            (``HTTP/hv01.corp.example@CORP.EXAMPLE``); None accepts any in the keytab.

    ``HostSpec.windows_defaults(name="hv01")`` builds a spec with Windows' defaults; see
    :data:`AUTH_DEFAULTS`.
    """

    name: str
    os: str = "2019"
    vms: int = 5
    seed: int = 0
    username: str = "admin"
    password: str = field(default="secret", repr=False)
    job_duration: float = 0.1
    context_timeout: float = 60.0
    allow_basic: bool = True
    allow_unencrypted: bool = True
    client_certificates: tuple[CertificateMapping, ...] = ()
    batching: Literal["windows", "full"] = "windows"
    locale: str = "en-US"
    kerberos_keytab: str | None = None
    service_principal: str | None = None

    def __post_init__(self) -> None:
        if self.batching not in ("windows", "full"):
            raise ConfigError(f"batching must be 'windows' or 'full', got {self.batching!r}")
        if self.locale not in LOCALES:
            raise ConfigError(f"unknown locale {self.locale!r}; choose one of {', '.join(LOCALES)}")
        if self.os not in OS_PROFILES:
            raise ConfigError(f"unknown OS {self.os!r}; choose one of {', '.join(OS_PROFILES)}")
        if self.vms < 0:
            raise ConfigError("vms must be zero or more")
        if not self.name:
            raise ConfigError("a simulated host needs a name")
        if self.job_duration < 0 or self.context_timeout <= 0:
            raise ConfigError("job_duration must be >= 0 and context_timeout > 0")
        domain, sep, user = self.username.rpartition("\\")
        if not user or (sep and not domain) or "\\" in domain:
            raise ConfigError(f"invalid user name {self.username!r}; use 'user' or 'DOMAIN\\user'")
        if _UNSAFE_CREDENTIAL_CHARS.intersection(self.username + self.password):
            raise ConfigError("the user name and password may not contain ':', NUL or line breaks")

    @classmethod
    def windows_defaults(cls, **fields: Any) -> HostSpec:
        """A spec that authenticates like a fresh Windows Server: Basic refused, plaintext
        HTTP bodies refused (NTLM with message encryption, or HTTPS, needed).

        Args:
            fields: any :class:`HostSpec` field (``name`` is required); explicit
                ``allow_basic``/``allow_unencrypted`` win over the preset.
        """
        return cls(**{**AUTH_DEFAULTS["windows"], **fields})

    def with_auth_defaults(self, preset: AuthDefaults) -> HostSpec:
        """This spec with the ``lab`` or ``windows`` authentication preset applied.

        Raises:
            ConfigError: unknown preset.
        """
        try:
            values = AUTH_DEFAULTS[preset]
        except KeyError:
            raise ConfigError(
                f"unknown auth preset {preset!r}; choose one of {', '.join(AUTH_DEFAULTS)}"
            ) from None
        return replace(
            self,
            allow_basic=values["allow_basic"],
            allow_unencrypted=values["allow_unencrypted"],
        )


@dataclass(slots=True)
class Transition:
    """A VM state change in flight: shows ``via`` until ``end``, then ``target`` (or ``source``)."""

    target: int
    via: int
    source: int
    end: float
    fail: bool = False
    restart: bool = False


@dataclass(slots=True)
class Resource:
    """One resource setting (RASD and subclasses) of a VM: class name plus typed values."""

    class_name: str
    values: dict[str, object]

    @property
    def instance_id(self) -> str:
        """The ``InstanceID`` key."""
        return str(self.values["InstanceID"])


@dataclass(slots=True)
class Snapshot:
    """One checkpoint of a VM: the configuration it froze and where it sits in the tree.

    Attributes:
        guid: its VSSD's GUID (``InstanceID`` ``Microsoft:<guid>``).
        name: ElementName (Hyper-V's default: ``<VM name> - (<date time>)``).
        parent: the GUID of the checkpoint it was taken from, None for a root.
        created: CreationTime.
        consistency: ConsistencyLevel: 1 application consistent (production checkpoint),
            2 crash consistent (standard checkpoint).
        saved: holds the running VM's memory state (a standard checkpoint of a running VM);
            applying it leaves the VM Saved instead of Off.
        cpus, memory_mb, notes: the configuration applying it restores.
        resources: the stored resource settings at the time, if any had been changed.
    """

    guid: str
    name: str
    parent: str | None
    created: datetime
    consistency: int
    saved: bool
    cpus: int
    memory_mb: int
    notes: str
    resources: list[Resource] | None = None


class VM:
    """The compact record of one virtual machine."""

    __slots__ = (
        "autostart",
        "changed",
        "cpus",
        "created",
        "current_snapshot",
        "disks",
        "dynamic_memory",
        "generated",
        "generation",
        "guest_os",
        "guid",
        "keys_down",
        "memory_mb",
        "name",
        "nics",
        "notes",
        "on_since",
        "pending",
        "process_id",
        "requested",
        "seed",
        "shutdown_ic",
        "snapshot_type",
        "snapshots",
        "state",
        "stored_resources",
        "typed",
        "version",
    )

    def __init__(self, *, guid: str, name: str, seed: int) -> None:
        self.guid = guid.upper()
        self.name = name
        self.seed = seed
        self.generation = 1
        self.version = ""
        self.state: int = VMState.OFF
        self.requested = 12  # "Not Applicable" until someone asks for a change
        self.pending: Transition | None = None
        self.on_since: float | None = None
        self.process_id: int | None = None
        self.created = datetime(2020, 1, 1, tzinfo=UTC)
        self.changed = self.created
        self.notes = ""
        self.autostart = 2
        self.guest_os = ""
        self.shutdown_ic = True
        self.cpus = 2
        self.memory_mb = 4096
        self.dynamic_memory = False
        self.disks = 1
        self.nics = 1
        #: Resource settings once a method changed them; ``None`` = generated from ``seed``.
        self.stored_resources: list[Resource] | None = None
        #: The generated settings and the inputs they were generated from (a cache: a VM's
        #: settings are read by nearly every query; ``_providers.vm_resources`` owns it).
        self.generated: tuple[object, list[Resource], dict[str, list[Instance]]] | None = None
        self.keys_down: set[int] = set()
        self.typed: list[str] = []
        #: Checkpoints in creation order (``_snapshots.Snapshot``) and the VSSD's
        #: UserSnapshotType: 2 Disabled, 3 Production, 4 Production only, 5 Standard.
        self.snapshots: list[Snapshot] = []
        self.snapshot_type = 3
        #: The checkpoint the running configuration descends from (its VSSD's ``Parent``).
        self.current_snapshot: str | None = None

    def __repr__(self) -> str:
        return f"<VM {self.name} {self.guid} state={self.state}>"

    @property
    def is_on(self) -> bool:
        """True while a worker process exists (running, paused, or changing between them)."""
        return self.on_since is not None


@dataclass(slots=True)
class Job:
    """One ``Msvm_ConcreteJob``: its timeline and outcome are fixed when it starts."""

    instance_id: str
    caption: str
    description: str
    job_type: int
    vm_guid: str | None
    vm_name: str
    submitted: datetime
    start: float
    end: float
    fail: bool = False
    error_code: int = 0
    error_description: str = ""

    def state_at(self, now: float) -> tuple[int, int]:
        """``(JobState, PercentComplete)`` at simulated time ``now``."""
        if now >= self.end:
            return (10, 100) if self.fail else (7, 100)
        duration = self.end - self.start
        done = 0 if duration <= 0 else int(100 * (now - self.start) / duration)
        if done < 5:
            return 2, 0  # New
        return 4, min(done, 99)  # Running


@dataclass(slots=True)
class EnumerationContext:
    """An open WS-Enumeration context: the result snapshot and how far the client has pulled."""

    items: list[Instance]
    mode: str
    projection: frozenset[str] | None
    last_used: float
    position: int = 0


# --- the host -------------------------------------------------------------------------------------
_ROLES = (
    "web",
    "app",
    "db",
    "sql",
    "dc",
    "file",
    "build",
    "test",
    "dev",
    "mail",
    "proxy",
    "cache",
    "k8s",
    "jump",
    "print",
    "backup",
    "monitor",
    "ci",
    "ftp",
    "rdsh",
)
_GUESTS = (
    ("Windows Server 2019 Datacenter", True),
    ("Windows Server 2022 Standard", True),
    ("Windows Server 2016 Standard", True),
    ("Ubuntu 22.04.4 LTS", True),
    ("Red Hat Enterprise Linux 9.3", True),
    ("Debian GNU/Linux 12 (bookworm)", True),
    ("FreeBSD 13.2-RELEASE", False),
    ("", False),  # no integration services at all
)
_CPUS = (
    ("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", 2494, 20),
    ("Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz", 2195, 12),
    ("Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz", 2394, 14),
    ("AMD EPYC 7543 32-Core Processor", 2800, 32),
    ("Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz", 2295, 40),
)
_HOST_MEMORY_GB = (128, 192, 256, 384, 512, 768)
_VM_MEMORY_MB = (1024, 2048, 4096, 4096, 8192, 8192, 16384, 32768)


def rng_guid(rng: random.Random) -> str:
    """An upper-case GUID drawn from ``rng`` (deterministic for a seeded generator)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper()


class SimulatedHost:
    """One simulated Hyper-V host: its identity, hardware, VMs, jobs and open contexts.

    Build one with :meth:`generate`.  Everything a request can observe lives here, so tests
    can inspect it (``host.vms``) and change it (``host.faults.latency = 0.2``) directly.

    Attributes:
        spec: the spec it was generated from.
        os: its Windows release profile.
        namespace: ``root/virtualization/v2`` or ``root/virtualization`` (2008 R2).
        faults: the fault-injection knobs, read on every request.
        vms: VM GUID (upper case) -> record, in creation order.
        jobs: job InstanceID -> job.
        contexts: enumeration context id -> open context.
    """

    def __init__(self, spec: HostSpec, *, clock: Callable[[], float] | None = None) -> None:
        self.spec = spec
        self.os = OS_PROFILES[spec.os]
        self.namespace = self.os.namespace
        self.faults = FaultConfig()
        self.clock: Callable[[], float] = clock or time.monotonic
        self._epoch = self.clock()
        self._wall_epoch = datetime.now(UTC).replace(microsecond=0)
        self.vms: dict[str, VM] = {}
        self.jobs: dict[str, Job] = {}
        self.contexts: dict[str, EnumerationContext] = {}
        #: Other hosts by lower-case name (computer, DNS or FQDN), for migrations; a
        #: SimulatorServer fills it with the hosts it serves.
        self.peers: dict[str, SimulatedHost] = {}
        rng = random.Random(f"aiohyperv-host:{spec.seed}:{spec.name}")
        self._rng = rng
        #: Draws for fault injection and jitter; separate so faults never shift generation.
        self.fault_rng = random.Random(f"aiohyperv-faults:{spec.seed}:{spec.name}")
        self.computer_name = spec.name.upper()[:15]
        self.dns_name = spec.name.lower()
        self.domain = "corp.example.com"
        cpu_name, clock_mhz, cores = rng.choice(_CPUS)
        self.cpu_name = cpu_name
        self.cpu_mhz = clock_mhz
        self.sockets = 2
        self.cores_per_socket = cores
        self.memory_bytes = rng.choice(_HOST_MEMORY_GB) * 1024**3 - rng.randrange(1, 512) * 1024**2
        self.system_uuid = rng_guid(rng)
        self.serial_number = f"{rng.randrange(16**7):07X}"
        self.installed = datetime(2020 + rng.randrange(4), 1 + rng.randrange(12), 1, tzinfo=UTC)
        self.uptime_at_start = timedelta(days=rng.randrange(1, 120), seconds=rng.randrange(86400))
        self.switches: list[tuple[str, str]] = [(rng_guid(rng), "External vSwitch")]
        if rng.random() < 0.5:
            self.switches.append((rng_guid(rng), "Internal"))
        self._next_pid = 2000 + rng.randrange(8000)
        self._mac_counter = rng.randrange(0x10000)
        self._mac_prefix = f"00155D{rng.randrange(256):02X}"

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def generate(cls, spec: HostSpec, *, clock: Callable[[], float] | None = None) -> SimulatedHost:
        """Generate a host and its VMs deterministically from ``spec``.

        Args:
            spec: name, OS, VM count, seed and credentials.
            clock: monotonic seconds; defaults to ``time.monotonic``.  Tests pass a fake one to
                step simulated time by hand.
        """
        host = cls(spec, clock=clock)
        used: set[str] = set()
        for index in range(spec.vms):
            host._add_generated_vm(index, used)
        return host

    def _add_generated_vm(self, index: int, used: set[str]) -> VM:
        rng = self._rng
        role = _ROLES[rng.randrange(len(_ROLES))]
        name = f"{role}-{index + 1:02d}"
        while name in used:
            name += "b"
        used.add(name)
        vm = VM(guid=rng_guid(rng), name=name, seed=rng.getrandbits(32))
        vm.generation = 2 if self.os.generation2 and rng.random() < 0.7 else 1
        versions = (self.os.vm_version,) * 4 + self.os.older_vm_versions
        vm.version = rng.choice(versions)
        vm.cpus = rng.choice((1, 2, 2, 4, 4, 8))
        vm.memory_mb = rng.choice(_VM_MEMORY_MB)
        vm.dynamic_memory = rng.random() < 0.3
        vm.disks = 1 + (rng.random() < 0.3) + (rng.random() < 0.1)
        vm.nics = 1 + (rng.random() < 0.2)
        vm.guest_os, vm.shutdown_ic = _GUESTS[rng.randrange(len(_GUESTS))]
        vm.autostart = rng.choice((2, 3, 4))
        vm.notes = "" if rng.random() < 0.7 else f"Owner: team-{rng.randrange(1, 20)}"
        age = timedelta(days=rng.randrange(1, 900), seconds=rng.randrange(86400))
        vm.created = self._wall_epoch - age
        draw = rng.random()
        if draw < 0.6:
            state = VMState.RUNNING
        elif draw < 0.85:
            state = VMState.OFF
        elif draw < 0.93:
            state = VMState.SAVED
        else:
            state = VMState.PAUSED
        self._set_initial_state(vm, state, rng)
        self.vms[vm.guid] = vm
        return vm

    def _set_initial_state(self, vm: VM, state: int, rng: random.Random) -> None:
        v1 = self.os.v1
        if state in (VMState.RUNNING, VMState.PAUSED):
            running_for = rng.randrange(60, 30 * 86400)
            vm.on_since = self._epoch - running_for
            vm.process_id = self.new_pid()
            vm.changed = self._wall_epoch - timedelta(seconds=running_for)
        else:
            vm.changed = vm.created + timedelta(seconds=rng.randrange(1, 86400))
        if v1 and state == VMState.SAVED:
            state = VMState.V1_SUSPENDED
        elif v1 and state == VMState.PAUSED:
            state = VMState.V1_PAUSED
        vm.state = state

    def new_pid(self) -> int:
        """A fresh ``ProcessID`` for a VM worker process."""
        self._next_pid += 4 + self._rng.randrange(60)
        return self._next_pid

    def new_mac(self) -> str:
        """A fresh dynamic MAC from this host's Hyper-V pool (``00155Dxxxxxx``)."""
        self._mac_counter = (self._mac_counter + 1) % 0x10000
        return f"{self._mac_prefix}{self._mac_counter:04X}"

    def new_seed(self) -> int:
        """A fresh seed for a new VM's generated settings."""
        return self._rng.getrandbits(32)

    def new_guid(self) -> str:
        """A fresh upper-case GUID (deterministic in the host's sequence)."""
        return rng_guid(self._rng)

    def warm(self) -> None:
        """Build every VM's settings now instead of on the first query that reads them.

        A real host answers from configuration it already holds; the simulator builds a VM's
        settings from its seed on first use and keeps them (until a change regenerates them).
        Warming a fleet before serving it keeps that one-time work out of the first requests,
        which matters when a benchmark measures the server's CPU per request.  Answers are the
        same either way.
        """
        from aiohyperv.simulator._providers import warm

        warm(self)

    # --- time ---------------------------------------------------------------------------------
    def now(self) -> float:
        """Simulated monotonic seconds."""
        return self.clock()

    def wall(self, at: float | None = None) -> datetime:
        """The host's wall-clock time at simulated time ``at`` (default: now), in UTC."""
        moment = self.clock() if at is None else at
        return self._wall_epoch + timedelta(seconds=moment - self._epoch)

    @property
    def last_boot(self) -> datetime:
        """``Win32_OperatingSystem.LastBootUpTime``."""
        return self._wall_epoch - self.uptime_at_start

    # --- VMs ----------------------------------------------------------------------------------
    def vm(self, guid: str) -> VM | None:
        """The VM with this GUID (any case, braces allowed), settled to the present."""
        vm = self.vms.get(guid.strip("{}").upper())
        if vm is not None:
            self.settle(vm)
        return vm

    def all_vms(self) -> Iterator[VM]:
        """Every VM, settled to the present."""
        now = self.now()
        for vm in list(self.vms.values()):
            self.settle(vm, now)
            yield vm

    def settle(self, vm: VM, now: float | None = None) -> None:
        """Finish ``vm``'s transition if its time has come."""
        pending = vm.pending
        if pending is None:
            return
        moment = self.now() if now is None else now
        if moment < pending.end:
            return
        vm.pending = None
        final = pending.source if pending.fail else pending.target
        vm.state = final
        vm.changed = self.wall(pending.end)
        on_states = {VMState.RUNNING, VMState.PAUSED, VMState.V1_PAUSED}
        if final in on_states:
            if vm.on_since is None or (pending.restart and not pending.fail):
                vm.on_since = pending.end
            if vm.process_id is None:
                vm.process_id = self.new_pid()
        else:
            vm.on_since = None
            vm.process_id = None
            vm.keys_down.clear()

    def enabled_state(self, vm: VM) -> int:
        """What ``EnabledState`` shows now: the transitional state while one is in flight."""
        self.settle(vm)
        return vm.pending.via if vm.pending is not None else vm.state

    def on_time_ms(self, vm: VM) -> int:
        """``OnTimeInMilliseconds``: how long the VM has been on, 0 when off or saved."""
        if vm.on_since is None:
            return 0
        return max(0, int((self.now() - vm.on_since) * 1000))

    # --- jobs ---------------------------------------------------------------------------------
    def start_job(
        self,
        *,
        caption: str,
        description: str,
        job_type: int,
        vm: VM | None,
        fail: bool | None = None,
        error_description: str = "",
    ) -> Job:
        """Start a job that runs for ``spec.job_duration`` simulated seconds.

        ``fail`` defaults to the host's ``faults.fail_jobs`` knob.
        """
        now = self.now()
        failing = self.faults.fail_jobs if fail is None else fail
        job = Job(
            instance_id=self.new_guid(),
            caption=caption,
            description=description,
            job_type=job_type,
            vm_guid=vm.guid if vm is not None else None,
            vm_name=vm.name if vm is not None else "",
            submitted=self.wall(now),
            start=now,
            end=now + self.spec.job_duration,
            fail=failing,
            error_code=32768 if failing else 0,
            error_description=error_description if failing else "",
        )
        self._prune_jobs(now)
        self.jobs[job.instance_id] = job
        return job

    def _prune_jobs(self, now: float) -> None:
        # Hyper-V keeps finished jobs for a few minutes (TimeBeforeRemoval); so do we.
        if len(self.jobs) < 64:
            return
        for key in [k for k, j in self.jobs.items() if now - j.end > 300]:
            del self.jobs[key]

    # --- enumeration contexts -----------------------------------------------------------------
    def open_context(self, ctx: EnumerationContext) -> str:
        """Store an enumeration context and return its id."""
        self.expire_contexts()
        context_id = f"uuid:{uuid.uuid4()}".upper().replace("UUID:", "uuid:")
        self.contexts[context_id] = ctx
        return context_id

    def take_context(self, context_id: str) -> EnumerationContext | None:
        """The live context ``context_id``, or ``None`` if unknown or expired."""
        self.expire_contexts()
        ctx = self.contexts.get(context_id)
        if ctx is not None:
            ctx.last_used = self.now()
        return ctx

    def expire_contexts(self) -> None:
        """Drop contexts idle longer than ``spec.context_timeout``."""
        now = self.now()
        limit = self.spec.context_timeout
        for key in [k for k, c in self.contexts.items() if now - c.last_used > limit]:
            del self.contexts[key]

    def __repr__(self) -> str:
        return (
            f"<SimulatedHost {self.spec.name} os={self.spec.os} vms={len(self.vms)} "
            f"jobs={len(self.jobs)} contexts={len(self.contexts)}>"
        )
