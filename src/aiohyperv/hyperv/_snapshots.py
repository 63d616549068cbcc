"""Checkpoints (snapshots) of a VM through ``Msvm_VirtualSystemSnapshotService``.

Methods, from Microsoft's pages for the class (``windows/win32/hyperv_v2``):

* ``CreateSnapshot(AffectedSystem REF CIM_ComputerSystem, SnapshotSettings string (embedded
  Msvm_VirtualSystemSnapshotSettingData, optional), SnapshotType uint16 (2 Full Snapshot))
  -> ResultingSnapshot REF CIM_VirtualSystemSettingData, Job``
* ``ApplySnapshot(Snapshot REF CIM_VirtualSystemSettingData) -> Job``
* ``DestroySnapshot(AffectedSnapshot REF CIM_VirtualSystemSettingData) -> Job``
* ``DestroySnapshotTree(SnapshotSettingData REF CIM_VirtualSystemSettingData) -> Job``

They return CIM_VirtualSystemSnapshotService's codes: 0 done, 4096 job started, 1 Not
Supported, 2 Failed, 3 Timeout, 4 Invalid Parameter, 5 Invalid State, 6 Invalid Type; every
call here waits for the job.  A checkpoint is a ``Msvm_VirtualSystemSettingData`` whose
``VirtualSystemType`` is ``Microsoft:Hyper-V:Snapshot:Realized`` and whose ``Parent`` is the
WMI path of the checkpoint it was taken from; the VM's realized settings' ``Parent`` is the
current checkpoint.  Checkpoints are renamed with the VSMS's ``ModifySystemSettings`` on the
checkpoint's settings (as ``Rename-VMSnapshot`` does).

2008 R2 (``root/virtualization``) snapshots through other VSMS methods; they are not wrapped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from aiohyperv._exceptions import CimMethodError, InvalidOperation, NotFound, ProtocolError

from . import _wql

if TYPE_CHECKING:
    from datetime import datetime

    from aiohyperv.cim import EPR, CimInstance
    from aiohyperv.wsman import InvokeValue

    from ._domain import Domain

__all__ = [
    "SNAPSHOT_SERVICE",
    "Snapshot",
    "create_snapshot",
    "delete_snapshot",
    "list_snapshots",
    "lookup_snapshot",
    "revert_snapshot",
]

SNAPSHOT_SERVICE = "Msvm_VirtualSystemSnapshotService"
SNAPSHOT_TYPE = "Microsoft:Hyper-V:Snapshot:Realized"
#: CreateSnapshot's SnapshotType "Full Snapshot".
_FULL_SNAPSHOT = 2
#: Msvm_VirtualSystemSnapshotSettingData.ConsistencyLevel: 1 Application Consistent (a
#: production checkpoint), 2 Crash Consistent (a standard one).
_CONSISTENCY = {"production": 1, "standard": 2}
#: CIM_VirtualSystemSnapshotService return codes (Microsoft's CreateSnapshot page).
_CODES = {
    1: "not supported",
    2: "failed",
    3: "timeout",
    4: "invalid parameter",
    5: "invalid state (the VM must be off or saved to apply a checkpoint)",
    6: "invalid type",
}
_INSTANCE_ID = re.compile(r'InstanceID=(?:"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\')')

Consistency = Literal["production", "standard"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """One checkpoint of a domain.

    Attributes:
        name: its name (ElementName).
        id: its settings' InstanceID (``Microsoft:<GUID>``).
        parent_id: the InstanceID of the checkpoint it was taken from, None for a root.
        created: CreationTime.
        saved: it holds the VM's memory (a standard checkpoint of a running VM); reverting
            to it leaves the VM saved rather than off.
        current: the VM's running configuration descends from it.
    """

    name: str
    id: str
    parent_id: str | None
    created: datetime | None
    saved: bool
    current: bool

    @property
    def state(self) -> str:
        """virsh's snapshot state: ``"running"`` with memory state, else ``"shutoff"``."""
        return "running" if self.saved else "shutoff"

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "name": self.name,
            "id": self.id,
            "parent_id": self.parent_id,
            "created": self.created.isoformat() if self.created else None,
            "state": self.state,
            "current": self.current,
        }


def _parent_id(path: str | None) -> str | None:
    """The InstanceID inside a ``...Msvm_VirtualSystemSettingData.InstanceID="..."`` path."""
    if not path:
        return None
    match = _INSTANCE_ID.search(path)
    if match is None:
        return None
    return (match.group(1) or match.group(2) or "").replace("\\\\", "\\") or None


def _check_v2(dom: Domain) -> None:
    if dom.connection.namespace != "v2":
        raise InvalidOperation(
            "checkpoints are managed through root/virtualization/v2 (Windows Server 2012+)",
            host=dom.connection.host,
        )


def _snapshot_query(guid: str) -> str:
    return _wql.select(
        "Msvm_VirtualSystemSettingData",
        f"VirtualSystemType = {_wql.quote(SNAPSHOT_TYPE)}"
        f" AND VirtualSystemIdentifier = {_wql.quote(guid)}",
    )


async def list_snapshots(dom: Domain) -> list[Snapshot]:
    """Every checkpoint of ``dom``, oldest first (two queries, sent together)."""
    _check_v2(dom)
    conn = dom.connection
    rows, realized = await conn.gather(conn.query(_snapshot_query(dom.guid)), dom._vssd())
    current = _parent_id(realized.get_str("Parent"))
    out = [
        Snapshot(
            name=row.get_str("ElementName") or "",
            id=row.get_str("InstanceID") or "",
            parent_id=_parent_id(row.get_str("Parent")),
            created=row.get_datetime("CreationTime"),
            saved=bool(row.get_bool("IsSaved")),
            current=(row.get_str("InstanceID") or "").lower() == (current or "").lower(),
        )
        for row in rows
    ]
    out.sort(key=lambda s: (s.created.timestamp() if s.created else 0.0, s.name))
    return out


async def lookup_snapshot(dom: Domain, name: str) -> Snapshot:
    """The checkpoint called ``name`` (or whose InstanceID is ``name``).

    Raises:
        NotFound: no such checkpoint, or several carry that name.
    """
    found = [s for s in await list_snapshots(dom) if name in (s.name, s.id)]
    if len(found) != 1:
        why = "no domain snapshot with matching name" if not found else "several snapshots named"
        raise NotFound(f"{why} '{name}'", host=dom.connection.host)
    return found[0]


def _epr(dom: Domain, instance_id: str) -> EPR:
    return dom.connection._cls("Msvm_VirtualSystemSettingData").epr(InstanceID=instance_id)


async def _invoke(dom: Domain, method: str, params: dict[str, InvokeValue]) -> CimInstance:
    conn = dom.connection
    try:
        result = await conn.invoke(
            SNAPSHOT_SERVICE,
            method,
            selectors=await conn.service_keys(SNAPSHOT_SERVICE),
            params=params,
        )
    except CimMethodError as exc:
        if type(exc) is CimMethodError and int(exc.return_value) in _CODES:
            # The snapshot service speaks CIM_VirtualSystemSnapshotService's codes, not the
            # Msvm_ReturnCode family ReturnCode names.
            raise CimMethodError(
                f"{method} on domain {dom.name!r}: {_CODES[int(exc.return_value)]}",
                method=method,
                return_value=int(exc.return_value),
                host=conn.host,
            ) from None
        raise
    return result.as_instance()


async def create_snapshot(
    dom: Domain, name: str | None = None, *, consistency: Consistency | None = None
) -> Snapshot:
    """Take a checkpoint, wait for it, and name it ``name`` (Hyper-V's default name otherwise).

    Args:
        dom: the domain.
        name: the checkpoint's name.
        consistency: ``"production"`` (application consistent, through the guest's
            integration services) or ``"standard"`` (crash consistent, with memory when
            running); None follows the VM's checkpoint type.

    Raises:
        JobFailed: the host could not take it (for example a production-only VM whose guest
            does not answer).
        CimMethodError: 5 (invalid state) while the VM changes state.
    """
    _check_v2(dom)
    conn = dom.connection
    conn.require_writable("snapshot-create")
    params: dict[str, InvokeValue] = {
        "AffectedSystem": dom._cs_epr(),
        "SnapshotType": _FULL_SNAPSHOT,
    }
    if consistency is not None:
        params["SnapshotSettings"] = conn._cls("Msvm_VirtualSystemSnapshotSettingData").embed(
            ConsistencyLevel=_CONSISTENCY[consistency]
        )
    out = await _invoke(dom, "CreateSnapshot", params)
    ref = out.get_epr("ResultingSnapshot")
    instance_id = ref.selector("InstanceID") if ref is not None else None
    if instance_id is None:
        raise ProtocolError("CreateSnapshot returned no ResultingSnapshot", host=conn.host)
    if name:
        emb = conn._cls("Msvm_VirtualSystemSettingData").embed(
            InstanceID=instance_id, ElementName=name
        )
        await conn.invoke_vsms("ModifySystemSettings", {"SystemSettings": emb})
    return await lookup_snapshot(dom, instance_id)


async def revert_snapshot(dom: Domain, name: str) -> Snapshot:
    """Apply the checkpoint ``name`` (the VM must be off or saved) and wait for it."""
    _check_v2(dom)
    dom.connection.require_writable("snapshot-revert")
    snap = await lookup_snapshot(dom, name)
    await _invoke(dom, "ApplySnapshot", {"Snapshot": _epr(dom, snap.id)})
    await dom._refresh()
    return snap


async def delete_snapshot(dom: Domain, name: str, *, children: bool = False) -> Snapshot:
    """Delete the checkpoint ``name`` (with ``children``, its whole subtree) and wait."""
    _check_v2(dom)
    dom.connection.require_writable("snapshot-delete")
    snap = await lookup_snapshot(dom, name)
    if children:
        await _invoke(dom, "DestroySnapshotTree", {"SnapshotSettingData": _epr(dom, snap.id)})
    else:
        await _invoke(dom, "DestroySnapshot", {"AffectedSnapshot": _epr(dom, snap.id)})
    return snap
