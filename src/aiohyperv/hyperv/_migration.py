"""Moving a domain to another Hyper-V host: ``Msvm_VirtualSystemMigrationService``.

``MigrateVirtualSystemToHost(ComputerSystem REF, DestinationHost string, MigrationSettingData
string (embedded Msvm_VirtualSystemMigrationSettingData), NewSystemSettingData string,
NewResourceSettingData string[]) -> Job`` (Microsoft: "MigrateVirtualSystemToHost method of the
Msvm_VirtualSystemMigrationService class", ``windows/win32/hyperv_v2``); it answers 4096 and a
job, which is waited for, or a Msvm_ReturnCode (32773 Invalid parameter, 32775 Invalid state).
The settings ask for ``MigrationType`` 32768 (Virtual System) over ``TransportType`` 5 (TCP)
(Microsoft: "Msvm_VirtualSystemMigrationSettingData class"): a running VM moves live, an off or
saved one moves offline.  Both hosts must allow migrations (``Enable-VMMigration``) and trust
each other (CredSSP or Kerberos constrained delegation); the job fails otherwise, as it does
when the destination lacks a switch the VM uses or the memory to run it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohyperv._exceptions import InvalidOperation

from ._enums import DomainState

if TYPE_CHECKING:
    from ._domain import Domain

__all__ = ["MIGRATION_SERVICE", "migrate"]

MIGRATION_SERVICE = "Msvm_VirtualSystemMigrationService"
#: Msvm_VirtualSystemMigrationSettingData.MigrationType "Virtual System".
_VIRTUAL_SYSTEM = 32768
#: TransportType "TCP" (CIM_VirtualSystemMigrationSettingData).
_TCP = 5


async def migrate(dom: Domain, destination: str, *, live: bool | None = None) -> None:
    """Move ``dom`` to the Hyper-V host called ``destination`` and wait for the job.

    Args:
        dom: the domain.
        destination: the destination host's name as the source host can resolve it.
        live: True to insist on a live migration (the domain must be running), False on an
            offline one (the domain must be shut off, saved state allowed); None takes what
            the domain's state gives.

    Raises:
        InvalidOperation: the state does not allow the kind asked for, or a 2008 R2 host.
        JobFailed: the host refused the move (no such destination, missing switch, not
            enough memory, a VM with the same ID already there...).
    """
    conn = dom.connection
    conn.require_writable("migrate")
    if conn.namespace != "v2":
        raise InvalidOperation(
            "migration needs root/virtualization/v2 (Windows Server 2012+)", host=conn.host
        )
    state, _reason = await dom.state()
    if live is True and state is not DomainState.RUNNING:
        raise InvalidOperation(
            f"domain {dom.name!r} is not running: a live migration needs it running",
            host=conn.host,
        )
    if live is False and state in (DomainState.RUNNING, DomainState.PAUSED):
        raise InvalidOperation(
            f"domain {dom.name!r} is active: shut it off (or save it) for an offline migration",
            host=conn.host,
        )
    settings = conn._cls("Msvm_VirtualSystemMigrationSettingData").embed(
        MigrationType=_VIRTUAL_SYSTEM, TransportType=_TCP
    )
    await conn.invoke(
        MIGRATION_SERVICE,
        "MigrateVirtualSystemToHost",
        selectors=await conn.service_keys(MIGRATION_SERVICE),
        params={
            "ComputerSystem": dom._cs_epr(),
            "DestinationHost": destination,
            "MigrationSettingData": settings,
        },
    )
