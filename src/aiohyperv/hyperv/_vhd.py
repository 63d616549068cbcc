"""Virtual hard disk facts from ``Msvm_ImageManagementService``.

``GetVirtualHardDiskSettingData(Path) -> SettingData`` returns an embedded
``Msvm_VirtualHardDiskSettingData`` (Type 2 Fixed / 3 Dynamic / 4 Differencing, Format 2 VHD /
3 VHDX / 4 VHDSet, MaxInternalSize, BlockSize, LogicalSectorSize, PhysicalSectorSize,
ParentPath); ``GetVirtualHardDiskState(Path) -> State`` an embedded
``Msvm_VirtualHardDiskState`` (FileSize, InUse, MinInternalSize...).  Both may answer 0 or
4096 plus a job; other codes are Msvm_ReturnCode's (32773 Invalid parameter, 32779 File not
found).  Microsoft: "GetVirtualHardDiskSettingData method of the Msvm_ImageManagementService
class" and "GetVirtualHardDiskState method ..." (``windows/win32/hyperv_v2``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohyperv._exceptions import HyperVError, InvalidOperation, ProtocolError
from aiohyperv.cim import CimInstance, parse_cimxml

from ._jobs import check_result, wait_for_job

if TYPE_CHECKING:
    from aiohyperv.cim import EmbeddedInstance

    from ._connection import HyperVConnection

__all__ = ["IMAGE_SERVICE", "DiskImageInfo", "disk_image_info", "read_disk_image"]

IMAGE_SERVICE = "Msvm_ImageManagementService"
_TYPES = {2: "fixed", 3: "dynamic", 4: "differencing"}
_FORMATS = {2: "vhd", 3: "vhdx", 4: "vhdset"}


@dataclass(frozen=True, slots=True, kw_only=True)
class DiskImageInfo:
    """One virtual hard disk file.

    Attributes:
        path: the file.
        format: ``"vhd"``, ``"vhdx"`` or ``"vhdset"`` (Format).
        type: ``"fixed"``, ``"dynamic"`` or ``"differencing"`` (Type).
        capacity: the size the guest sees, in bytes (MaxInternalSize).
        file_size: the file's size on the host, in bytes (FileSize).
        block_size: BlockSize in bytes (0 for fixed disks).
        logical_sector_size / physical_sector_size: in bytes.
        parent_path: the parent of a differencing disk.
        in_use: the file is open (its VM runs).
    """

    path: str
    format: str | None
    type: str | None
    capacity: int | None
    file_size: int | None
    block_size: int | None = None
    logical_sector_size: int | None = None
    physical_sector_size: int | None = None
    parent_path: str | None = None
    in_use: bool | None = None

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "path": self.path,
            "format": self.format,
            "type": self.type,
            "capacity": self.capacity,
            "file_size": self.file_size,
            "block_size": self.block_size,
            "logical_sector_size": self.logical_sector_size,
            "physical_sector_size": self.physical_sector_size,
            "parent_path": self.parent_path,
            "in_use": self.in_use,
        }


def _int(emb: EmbeddedInstance | None, name: str) -> int | None:
    value = None if emb is None else emb.value(name)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _embedded(outputs: CimInstance, name: str) -> EmbeddedInstance | None:
    text = outputs.get_str(name)
    if not text:
        return None
    try:
        return parse_cimxml(text)
    except (ValueError, TypeError) as exc:  # parse_cimxml raises ProtocolError itself
        raise ProtocolError(f"{name} is not a CIM-XML instance: {exc}") from None


def read_disk_image(
    path: str, settings: EmbeddedInstance | None, state: EmbeddedInstance | None
) -> DiskImageInfo:
    """Combine the two embedded instances into a :class:`DiskImageInfo` (no I/O)."""
    kind = _int(settings, "Type")
    fmt = _int(settings, "Format")
    parent = settings.value("ParentPath") if settings is not None else None
    in_use = state.value("InUse") if state is not None else None
    return DiskImageInfo(
        path=path,
        format=None if fmt is None else _FORMATS.get(fmt, str(fmt)),
        type=None if kind is None else _TYPES.get(kind, str(kind)),
        capacity=_int(settings, "MaxInternalSize"),
        file_size=_int(state, "FileSize"),
        block_size=_int(settings, "BlockSize"),
        logical_sector_size=_int(settings, "LogicalSectorSize"),
        physical_sector_size=_int(settings, "PhysicalSectorSize"),
        parent_path=parent if isinstance(parent, str) and parent else None,
        in_use=in_use if isinstance(in_use, bool) else None,
    )


async def disk_image_info(conn: HyperVConnection, path: str) -> DiskImageInfo:
    """Ask the host's image management service about ``path`` (two calls, sent together).

    Raises:
        InvalidOperation: a 2008 R2 host (its image service has other methods).
        CimMethodError: 32779 (file not found), 32773 (not a virtual hard disk) ...
    """
    if conn.namespace != "v2":
        raise InvalidOperation(
            "disk image details need root/virtualization/v2 (Windows Server 2012+)",
            host=conn.host,
        )
    keys = await conn.service_keys(IMAGE_SERVICE)

    async def call(method: str) -> CimInstance:
        # Read-only calls: a read-only connection may make them (invoke() refuses).
        conn._check_open()
        cls = conn._cls(IMAGE_SERVICE)
        result = await conn.session.invoke(
            cls.resource_uri, method, selectors=keys, params={"Path": path}
        )
        try:
            if check_result(result, method) and result.job is not None:
                await wait_for_job(
                    conn.session,
                    result.job,
                    method=method,
                    namespace_uri=conn.job_namespace_uri(),
                    policy=conn.job_policy,
                )
        except HyperVError as exc:
            raise exc.with_host(conn.host) from None
        return result.as_instance()

    settings, state = await conn.gather(
        call("GetVirtualHardDiskSettingData"), call("GetVirtualHardDiskState")
    )
    return read_disk_image(path, _embedded(settings, "SettingData"), _embedded(state, "State"))
