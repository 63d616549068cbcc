"""Each protocol-core package exports exactly its public names, in a sorted ``__all__``."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

import pytest

import aiohyperv.cim
import aiohyperv.simulator._codec as codec
import aiohyperv.wsman

if TYPE_CHECKING:
    from types import ModuleType


def _isort_key(name: str) -> tuple[int, str]:
    # ruff RUF022 / isort style, as the rest of the package: CONSTANTS, Classes, functions.
    if name.isupper():
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


@pytest.mark.parametrize("module", [aiohyperv.cim, aiohyperv.wsman], ids=lambda m: m.__name__)
def test_all_is_the_sorted_set_of_public_names(module: ModuleType) -> None:
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert set(module.__all__) == public
    assert module.__all__ == sorted(public, key=_isort_key)
    assert len(module.__all__) == len(set(module.__all__))


def test_design_contract_names_exist() -> None:
    # The names the layers above rely on (docs/ARCHITECTURE.md).
    for name in (
        "ANONYMOUS EPR CimType RawValue PropertyValue CimInstance coerce format_value "
        "parse_cim_datetime format_cim_datetime format_cim_interval EmbeddedInstance "
        "to_cimxml parse_cimxml CimDateTime"
    ).split():
        assert hasattr(aiohyperv.cim, name), name
    for name in (
        "NS Action WQL_DIALECT SELECTOR_DIALECT ASSOCIATION_DIALECT NAMESPACE_V2 NAMESPACE_V1 "
        "NAMESPACE_CIMV2 resource_uri wildcard_uri split_resource_uri EnumerationMode Filter "
        "RequestOptions build_request build_identify build_get build_put build_create "
        "build_delete build_enumerate build_pull build_release build_invoke InvokeValue "
        "Response parse_response parse_get parse_enumerate EnumerationBatch MethodResult "
        "parse_invoke parse_fault Enumeration serialize_instance"
    ).split():
        assert hasattr(aiohyperv.wsman, name), name
    # The server side of the protocol belongs to the simulator, not the client's wsman package.
    for name in (
        "Request parse_request parse_enumerate_request parse_pull_request parse_release_request "
        "parse_invoke_request build_response build_enumerate_response build_pull_response "
        "build_invoke_response build_fault"
    ).split():
        assert hasattr(codec, name), name
        assert not hasattr(aiohyperv.wsman, name), name
