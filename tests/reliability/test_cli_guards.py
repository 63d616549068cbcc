"""The CLI refuses changes under ``-r`` before it sends anything, and prints host text on one line.

A host controls the text of its faults.  Printed verbatim, a newline in it forges a second
``error:`` line (or a row of the inventory's failure table), C1 controls drive the terminal and
a right-to-left override reorders what the reader sees.
"""

from __future__ import annotations

import io
import unicodedata
from typing import TYPE_CHECKING

from aiohyperv._credentials import Credentials
from aiohyperv.cli import run
from aiohyperv.cli._output import write_summary
from aiohyperv.fleet import FleetResult, HostInventory, HostResult

from ._corpus import Reply, soap_fault

if TYPE_CHECKING:
    from .conftest import HostileFactory

CREDS = Credentials(username="admin", password="pw")
FORGED = "bad thing\nerror: forged line\x85\x9b31m\u202eevil\u2028more"


def _one_clean_line(text: str) -> None:
    # The run-wide warnings the CLI always prints (here: Basic over plain HTTP) are lines of
    # their own; the error must be one more, whole and clean.
    text = "".join(line for line in text.splitlines(True) if not line.startswith("warning: "))
    assert text.endswith("\n")
    assert text.count("\n") == 1, repr(text)
    for ch in text[:-1]:
        assert unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"), repr(text)


async def test_readonly_refuses_mutating_command_before_connecting(
    hostile: HostileFactory,
) -> None:
    server = await hostile(lambda _req: Reply(b""))
    out, err = io.StringIO(), io.StringIO()
    code = await run(
        ["-r", "-c", str(server.uri), "start", "web01"], stdout=out, stderr=err, auth=CREDS
    )
    assert code == 1
    assert "read-only" in err.getvalue()
    assert server.served.requests == 0


async def test_fault_text_is_printed_on_one_line(hostile: HostileFactory) -> None:
    server = await hostile(lambda _req: soap_fault("AccessDenied", 5, reason=FORGED))
    out, err = io.StringIO(), io.StringIO()
    code = await run(["-c", str(server.uri), "list", "--all"], stdout=out, stderr=err, auth=CREDS)
    assert code == 1
    text = err.getvalue()
    assert text.startswith("error: ")
    assert "forged line" in text
    _one_clean_line(text)


def test_inventory_failure_table_sanitizes_host_text() -> None:
    from aiohyperv._config import parse_uri
    from aiohyperv._exceptions import ProtocolError

    uri = parse_uri("hyperv://h1/")
    failed: HostResult[HostInventory] = HostResult(
        host=uri.host_label, uri=uri, index=0, error=ProtocolError(FORGED, host=uri.host_label)
    )
    out = io.StringIO()
    write_summary(FleetResult(results=(failed,)), out)
    rows = [line for line in out.getvalue().splitlines() if line.startswith(uri.host_label)]
    assert len(rows) == 1, out.getvalue()
    assert "forged line" in rows[0]
    _one_clean_line(rows[0] + "\n")
    assert "error: forged line" not in out.getvalue().splitlines()
