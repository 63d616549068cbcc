"""Tests of the driver's pure parts: state table, WQL, images, key codes, class tables."""

from __future__ import annotations

import struct
import zlib

import pytest

from aiohyperv._exceptions import ConfigError
from aiohyperv.cim import CimInstance, CimType
from aiohyperv.hyperv import NamespaceVersion, _classes, _image, _keycodes, _wql
from aiohyperv.hyperv._enums import (
    STATE_TABLE,
    DomainState,
    EnabledStateV1,
    EnabledStateV2,
    JobState,
    ReturnCode,
    active_states,
    map_enabled_state,
    return_code,
)

# -- state mapping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ns", "value", "state", "active", "transitional", "saved"),
    [
        ("v2", 2, DomainState.RUNNING, True, False, False),
        ("v2", 3, DomainState.SHUTOFF, False, False, False),
        ("v2", 6, DomainState.SHUTOFF, False, False, True),
        ("v2", 9, DomainState.PAUSED, True, False, False),
        ("v2", 4, DomainState.SHUTDOWN, True, True, False),
        ("v2", 10, DomainState.RUNNING, True, True, False),
        ("v2", 32773, DomainState.RUNNING, True, True, False),
        ("v2", 32776, DomainState.PAUSED, True, True, False),
        ("v2", 32777, DomainState.PAUSED, True, True, False),
        ("v2", 32779, DomainState.SHUTOFF, False, False, True),
        ("v2", 32768, DomainState.NOSTATE, False, False, False),  # v1's Paused means nothing here
        ("v2", 0, DomainState.NOSTATE, False, False, False),
        ("v1", 2, DomainState.RUNNING, True, False, False),
        ("v1", 3, DomainState.SHUTOFF, False, False, False),
        ("v1", 32768, DomainState.PAUSED, True, False, False),
        ("v1", 32769, DomainState.SHUTOFF, False, False, True),
        ("v1", 32774, DomainState.SHUTDOWN, True, True, False),
        ("v1", 9, DomainState.NOSTATE, False, False, False),  # v2's Quiesce means nothing in v1
        ("v1", 6, DomainState.NOSTATE, False, False, False),
    ],
)
def test_state_table(
    ns: str, value: int, state: DomainState, active: bool, transitional: bool, saved: bool
) -> None:
    info = map_enabled_state(ns, value)  # type: ignore[arg-type]
    assert info.state is state
    assert info.active is active
    assert info.transitional is transitional
    assert info.managed_save is saved


def test_state_table_covers_every_named_state() -> None:
    for member in EnabledStateV2:
        if member in (0, 1, 5, 7, 8):  # unknown/other/not applicable/test/deferred
            continue
        assert ("v2", member) in STATE_TABLE, member
    for member_v1 in EnabledStateV1:
        if member_v1 == 0:
            continue
        assert ("v1", member_v1) in STATE_TABLE, member_v1
    assert map_enabled_state("v2", None).state is DomainState.NOSTATE


def test_state_labels_are_virsh_words() -> None:
    assert DomainState.SHUTOFF.label == "shut off"
    assert DomainState.RUNNING.label == "running"
    assert DomainState.SHUTDOWN.label == "in shutdown"


def test_active_states_match_table() -> None:
    assert 2 in active_states("v2") and 9 in active_states("v2")
    assert 3 not in active_states("v2") and 6 not in active_states("v2")
    assert 32768 in active_states("v1") and 32769 not in active_states("v1")


def test_job_states_and_return_codes() -> None:
    assert JobState.COMPLETED.finished and not JobState.COMPLETED.failed
    assert all(JobState(s).failed for s in (8, 9, 10, 11))
    assert not JobState.RUNNING.finished
    assert return_code(32775) is ReturnCode.MSVM_INVALID_STATE
    assert return_code(12345) == 12345


# -- WQL -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain", "plain"),
        ("it's", "it\\'s"),
        ('say "hi"', 'say \\"hi\\"'),
        ("back\\slash", "back\\\\slash"),
        ("\\'", "\\\\\\'"),
        ("Ünïcødé VM ☃", "Ünïcødé VM ☃"),
    ],
)
def test_escape(raw: str, escaped: str) -> None:
    assert _wql.escape(raw) == escaped


def test_escape_refuses_nul() -> None:
    with pytest.raises(ConfigError):
        _wql.escape("a\x00b")


def test_vm_queries() -> None:
    # VMs are every Msvm_ComputerSystem but the host (Name = __SERVER), never a Description
    # match: Windows localizes Description (libvirt 6.9+ selects them the same way).
    assert _wql.vm_by_name("it's") == (
        "SELECT * FROM Msvm_ComputerSystem WHERE Name != __SERVER AND ElementName = 'it\\'s'"
    )
    assert _wql.vm_by_uuid("6A6F1D5C-0D3E-4C4B-9E3A-2B1C0D9E8F7A") == (
        "SELECT * FROM Msvm_ComputerSystem WHERE Name != __SERVER"
        " AND Name = '6A6F1D5C-0D3E-4C4B-9E3A-2B1C0D9E8F7A'"
    )
    assert _wql.vm_by_id(42) == (
        "SELECT * FROM Msvm_ComputerSystem WHERE Name != __SERVER AND ProcessID = 42"
    )
    assert _wql.vm_list("v2", active=True) == (
        "SELECT * FROM Msvm_ComputerSystem WHERE Name != __SERVER AND (EnabledState = 2 OR"
        " EnabledState = 4 OR EnabledState = 9 OR EnabledState = 10 OR EnabledState = 32770 OR"
        " EnabledState = 32771 OR EnabledState = 32773 OR EnabledState = 32774 OR"
        " EnabledState = 32776 OR EnabledState = 32777 OR EnabledState = 32780)"
    )
    assert _wql.vm_list("v1", active=False) == (
        "SELECT * FROM Msvm_ComputerSystem WHERE Name != __SERVER AND (EnabledState != 2 AND"
        " EnabledState != 32768 AND EnabledState != 32770 AND EnabledState != 32771 AND"
        " EnabledState != 32773 AND EnabledState != 32774 AND EnabledState != 32776 AND"
        " EnabledState != 32777)"
    )
    inactive = _wql.vm_list("v2", active=False)
    assert inactive.startswith(
        "SELECT * FROM Msvm_ComputerSystem WHERE Name != __SERVER AND (EnabledState != 2 AND"
    )


@pytest.mark.parametrize("namespace", ["v1", "v2"])
def test_vm_list_is_locale_independent(namespace: NamespaceVersion) -> None:
    for query in (
        _wql.vm_list(namespace),
        _wql.vm_list(namespace, active=True),
        _wql.vm_list(namespace, active=False),
    ):
        assert query.startswith("SELECT * FROM Msvm_ComputerSystem WHERE Name != __SERVER")
        assert "Description" not in query
        assert "Microsoft" not in query
    assert _wql.vm_list(namespace) == "SELECT * FROM Msvm_ComputerSystem WHERE Name != __SERVER"


def test_association_queries() -> None:
    assert _wql.vm_settings("ABC") == (
        "ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',"
        "Name='ABC'} WHERE AssocClass = Msvm_SettingsDefineState "
        "ResultClass = Msvm_VirtualSystemSettingData"
    )
    assert _wql.settings_components("Microsoft:X\\Y", "Msvm_MemorySettingData") == (
        "ASSOCIATORS OF {Msvm_VirtualSystemSettingData.InstanceID='Microsoft:X\\\\Y'} "
        "WHERE AssocClass = Msvm_VirtualSystemSettingDataComponent "
        "ResultClass = Msvm_MemorySettingData"
    )
    assert _wql.keyboard("ABC").endswith("WHERE ResultClass = Msvm_Keyboard")
    assert _wql.max_processor_settings() == (
        "SELECT * FROM Msvm_ProcessorSettingData "
        "WHERE InstanceID LIKE 'Microsoft:Definition%Maximum'"
    )
    assert (
        _wql.shutdown_component("G")
        == "SELECT * FROM Msvm_ShutdownComponent WHERE SystemName = 'G'"
    )
    assert _wql.switches("v2").endswith("WHERE HealthState = 5")
    assert _wql.vcpu_counters("a_b%").endswith("WHERE Name LIKE 'a[_]b[%]:Hv VP %'")


# -- images --------------------------------------------------------------------------------------


def _png_rows(png: bytes) -> tuple[int, int, bytes]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos = 8
    idat = b""
    width = height = 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        payload = png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + payload) & 0xFFFFFFFF
        if kind == b"IHDR":
            width, height = struct.unpack(">II", payload[:8])
            assert payload[8:] == bytes([8, 2, 0, 0, 0])
        elif kind == b"IDAT":
            idat += payload
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_rgb565_pixels() -> None:
    # white, red, green, blue, black, mid grey-ish
    pixels = [0xFFFF, 0xF800, 0x07E0, 0x001F, 0x0000, 0x8410]
    data = struct.pack("<6H", *pixels)
    rgb = _image.rgb565_to_rgb888(data, 3, 2)
    assert rgb[0:3] == b"\xff\xff\xff"
    assert rgb[3:6] == b"\xff\x00\x00"
    assert rgb[6:9] == b"\x00\xff\x00"
    assert rgb[9:12] == b"\x00\x00\xff"
    assert rgb[12:15] == b"\x00\x00\x00"
    assert rgb[15:18] == bytes([132, 130, 132])


def test_ppm_and_png() -> None:
    data = struct.pack("<4H", 0xF800, 0x07E0, 0x001F, 0xFFFF)
    ppm = _image.rgb565_to_ppm(data, 2, 2)
    assert ppm.startswith(b"P6\n2 2\n255\n")
    assert len(ppm) == len(b"P6\n2 2\n255\n") + 12
    width, height, raw = _png_rows(_image.rgb565_to_png(data, 2, 2))
    assert (width, height) == (2, 2)
    assert raw == b"\x00" + b"\xff\x00\x00\x00\xff\x00" + b"\x00" + b"\x00\x00\xff\xff\xff\xff"
    assert _image.convert(data, 2, 2, "ppm") == ppm


def test_image_size_checks() -> None:
    with pytest.raises(ValueError, match="needs 8"):
        _image.rgb565_to_png(b"\x00" * 6, 2, 2)
    with pytest.raises(ValueError, match="positive"):
        _image.rgb565_to_ppm(b"", 0, 2)
    with pytest.raises(ValueError, match="format"):
        _image.convert(b"\x00\x00", 1, 1, "gif")  # type: ignore[arg-type]


# -- key codes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codeset", "codes", "expected"),
    [
        ("linux", [29, 56, 111], [0xA2, 0xA4, 0x2E]),  # ctrl-alt-del
        ("linux", [30, 2, 11, 28], [0x41, 0x31, 0x30, 0x0D]),
        ("linux", [59, 68, 87, 88], [0x70, 0x79, 0x7A, 0x7B]),
        ("xt_kbd", [29, 56, 339], [0xA2, 0xA4, 0x2E]),
        ("atset1", [0x1D, 0x38, 0xE053], [0xA2, 0xA4, 0x2E]),
        ("qnum", [0x1D, 0x38, 0xD3], [0xA2, 0xA4, 0x2E]),
        ("rfb", [0x9C], [0x0D]),
        ("usb", [224, 226, 76], [0xA2, 0xA4, 0x2E]),
        ("usb", [4, 29, 39], [0x41, 0x5A, 0x30]),
        ("win32", [0x11, 0x12, 0x2E], [0x11, 0x12, 0x2E]),
    ],
)
def test_to_win32(codeset: str, codes: list[int], expected: list[int]) -> None:
    assert _keycodes.to_win32(codeset, codes) == expected


def test_keycode_errors() -> None:
    with pytest.raises(ConfigError, match="codeset"):
        _keycodes.to_win32("os_x", [1])
    with pytest.raises(ConfigError, match="cannot translate"):
        _keycodes.to_win32("linux", [999])
    with pytest.raises(ConfigError, match="out of range"):
        _keycodes.to_win32("win32", [0x1000])


def test_parse_keycode() -> None:
    assert _keycodes.parse_keycode("linux", "KEY_LEFTCTRL") == 29
    assert _keycodes.parse_keycode("linux", "key_a") == 30
    assert _keycodes.parse_keycode("linux", "0x1d") == 29
    assert _keycodes.parse_keycode("win32", "VK_CONTROL") == 0x11
    assert _keycodes.parse_keycode("win32", "VK_DELETE") == 0x2E
    with pytest.raises(ConfigError):
        _keycodes.parse_keycode("usb", "KEY_A")


def test_every_row_round_trips_from_linux() -> None:
    for row in _keycodes.KEY_ROWS:
        assert _keycodes.to_win32("linux", [row.linux]) == [row.win32]


# -- class tables --------------------------------------------------------------------------------


def test_class_tables_type_reads_and_embeds() -> None:
    v2 = _classes.lookup("root/virtualization/v2", "Msvm_ComputerSystem")
    assert v2.resource_uri.endswith("/wmi/root/virtualization/v2/Msvm_ComputerSystem")
    inst = CimInstance("Msvm_ComputerSystem", v2.resource_uri, {"EnabledState": "2", "Name": "G"})
    assert v2.read(inst, "EnabledState") == 2
    assert v2.as_dict(inst) == {"EnabledState": 2, "Name": "G"}
    mem = _classes.lookup("root/virtualization/v2", "Msvm_MemorySettingData")
    emb = mem.embed(InstanceID="Microsoft:X", VirtualQuantity=2048)
    assert emb.class_name == "Msvm_MemorySettingData"
    assert emb.properties["VirtualQuantity"] == (CimType.UINT64, 2048)
    rasd = _classes.lookup("root/virtualization/v2", "Msvm_ResourceAllocationSettingData")
    assert rasd.properties["HostResource"].array
    with pytest.raises(KeyError, match="Bogus"):
        mem.embed(Bogus=1)
    with pytest.raises(KeyError):
        _classes.lookup("root/virtualization", "Msvm_Nope")
    cs = v2.epr(CreationClassName="Msvm_ComputerSystem", Name="G")
    assert cs.selector("Name") == "G"
    with pytest.raises(KeyError, match="Name"):
        v2.epr(CreationClassName="Msvm_ComputerSystem")
    v1 = _classes.lookup("root/virtualization", "Msvm_VirtualSystemSettingData")
    assert "SettingType" in v1.properties
    assert v1.resource_uri.endswith("/wmi/root/virtualization/Msvm_VirtualSystemSettingData")
