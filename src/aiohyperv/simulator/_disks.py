"""Virtual disk images: what ``Msvm_ImageManagementService`` reports about a VHD/VHDX file.

``GetVirtualHardDiskSettingData(Path) -> SettingData`` (an embedded
``Msvm_VirtualHardDiskSettingData``: Type 2 Fixed / 3 Dynamic / 4 Differencing, Format 2 VHD /
3 VHDX / 4 VHDSet, MaxInternalSize, BlockSize, sector sizes...) and
``GetVirtualHardDiskState(Path) -> State`` (an embedded ``Msvm_VirtualHardDiskState``:
FileSize, InUse, MinInternalSize...), from Microsoft's pages for the methods and classes
(``windows/win32/hyperv_v2``).  Both return 0 with the output filled, or 32779 File not found
for a path no VM's disk image uses, or 32773 Invalid parameter for a file that is not a
virtual hard disk (an ISO).

A simulated file's facts are drawn from its path, so the same path always reports the same
sizes; a disk attached to a running VM is in use.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from aiohyperv.cim import CimType, EmbeddedInstance, to_cimxml
from aiohyperv.simulator._providers import vm_resources

if TYPE_CHECKING:
    from aiohyperv.simulator._host import VM, SimulatedHost

__all__ = ["FILE_NOT_FOUND", "disk_settings", "disk_state", "find_disk"]

FILE_NOT_FOUND = 32779
INVALID_PARAMETER = 32773
_GIB = 1024**3
_MIB = 1024**2
FIXED, DYNAMIC, DIFFERENCING = 2, 3, 4
VHD, VHDX = 2, 3


def find_disk(host: SimulatedHost, path: str) -> VM | None:
    """The VM whose disk image is ``path`` (Windows paths: case-insensitive)."""
    wanted = path.strip().casefold()
    for vm in host.vms.values():
        for res in vm_resources(host, vm):
            if res.class_name != "Msvm_StorageAllocationSettingData":
                continue
            paths = res.values.get("HostResource")
            if isinstance(paths, list) and any(
                isinstance(p, str) and p.casefold() == wanted for p in paths
            ):
                return vm
    return None


def _facts(path: str) -> tuple[int, int, int, int]:
    """``(Type, Format, MaxInternalSize, FileSize)`` for ``path``, the same every time."""
    rng = random.Random(f"aiohyperv-disk:{path.casefold()}")
    fmt = VHD if path.lower().endswith(".vhd") else VHDX
    kind = FIXED if rng.random() < 0.2 else DYNAMIC
    size = rng.choice((40, 60, 64, 127, 256, 512)) * _GIB
    if kind == FIXED:
        used = size + (4 * _MIB if fmt == VHDX else 512)  # the footer / metadata region
    else:
        used = int(size * rng.uniform(0.05, 0.7)) // _MIB * _MIB + 4 * _MIB
    return kind, fmt, size, used


def _is_image(path: str) -> bool:
    return path.lower().endswith((".vhd", ".vhdx", ".avhd", ".avhdx", ".vhds"))


def disk_settings(host: SimulatedHost, path: str) -> tuple[int, str | None]:
    """``(ReturnValue, SettingData)`` of GetVirtualHardDiskSettingData."""
    if not _is_image(path):
        return INVALID_PARAMETER, None
    if find_disk(host, path) is None:
        return FILE_NOT_FOUND, None
    kind, fmt, size, _used = _facts(path)
    emb = EmbeddedInstance("Msvm_VirtualHardDiskSettingData")
    emb.set("Caption", CimType.STRING, "Virtual Hard Disk Setting Data")
    emb.set("Description", CimType.STRING, "Setting Data for a Virtual Hard Disk")
    emb.set("InstanceID", CimType.STRING, f"Microsoft:{host.computer_name}:{path}")
    emb.set("ElementName", CimType.STRING, path.rsplit("\\", 1)[-1])
    emb.set("Type", CimType.UINT16, kind)
    emb.set("Format", CimType.UINT16, fmt)
    emb.set("Path", CimType.STRING, path)
    emb.set("ParentPath", CimType.STRING, None)
    emb.set("MaxInternalSize", CimType.UINT64, size)
    block = 0 if kind == FIXED else (32 * _MIB if fmt == VHDX else 2 * _MIB)
    emb.set("BlockSize", CimType.UINT32, block)
    emb.set("LogicalSectorSize", CimType.UINT32, 512)
    emb.set("PhysicalSectorSize", CimType.UINT32, 4096 if fmt == VHDX else 512)
    emb.set("VirtualDiskId", CimType.STRING, f"{{{random.Random(path).getrandbits(128):032x}}}")
    emb.set("DataAlignment", CimType.UINT64, _MIB if fmt == VHDX else 0)
    return 0, to_cimxml(emb)


def disk_state(host: SimulatedHost, path: str) -> tuple[int, str | None]:
    """``(ReturnValue, State)`` of GetVirtualHardDiskState."""
    if not _is_image(path):
        return INVALID_PARAMETER, None
    vm = find_disk(host, path)
    if vm is None:
        return FILE_NOT_FOUND, None
    kind, fmt, size, used = _facts(path)
    emb = EmbeddedInstance("Msvm_VirtualHardDiskState")
    emb.set("FileSize", CimType.UINT64, used)
    emb.set("InUse", CimType.BOOLEAN, vm.is_on)
    emb.set("MinInternalSize", CimType.UINT64, size if kind == FIXED else None)
    emb.set("PhysicalSectorSize", CimType.UINT32, 4096 if fmt == VHDX else 512)
    emb.set("Alignment", CimType.UINT32, 1)
    emb.set("FragmentationPercentage", CimType.UINT32, 0 if kind == FIXED else 3)
    return 0, to_cimxml(emb)
