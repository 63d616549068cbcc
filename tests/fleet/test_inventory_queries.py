"""The inventory's WQL text: VMs are selected without the localized Description."""

from __future__ import annotations

import pytest

from aiohyperv.fleet._inventory import CIMV2_QUERIES, V1_QUERIES, V2_QUERIES


@pytest.mark.parametrize("queries", [V1_QUERIES, V2_QUERIES], ids=["v1", "v2"])
def test_vm_query_does_not_depend_on_the_host_language(queries: dict[str, str]) -> None:
    # Windows localizes Msvm_ComputerSystem.Description ("Microsoft Virtual Machine" only on
    # an English host); every VM is every computer system but the host (Name = __SERVER).
    assert queries["vms"] == (
        "SELECT Name, ElementName, EnabledState, ProcessID, OnTimeInMilliseconds"
        " FROM Msvm_ComputerSystem WHERE Name != __SERVER"
    )


def test_no_query_filters_on_localized_text() -> None:
    for query in (*V1_QUERIES.values(), *V2_QUERIES.values(), *CIMV2_QUERIES.values()):
        assert "Description" not in query
        assert "Microsoft Virtual Machine" not in query
