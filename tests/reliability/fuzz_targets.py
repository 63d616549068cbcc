"""Fuzz targets: feed untrusted bytes to a parser and exercise everything it returns.

Shared by three runners: the hypothesis properties (``test_fuzz_properties.py``), the replay of
saved crashes (``test_corpus_replay.py``) and the fixed-time harnesses in ``fuzz/`` (atheris or
the pure-Python mutator).  A target returns normally when the input was handled: parsed, or
refused with one of the ``ALLOWED`` exceptions.  Anything else escaping is a bug (a "crash").
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Final

from aiohyperv._exceptions import ProtocolError, WSManFault
from aiohyperv.cim import CimInstance, CimType, EmbeddedInstance, parse_cimxml, to_cimxml
from aiohyperv.wsman import (
    Enumeration,
    EnumerationBatch,
    MethodResult,
    RequestOptions,
    Response,
    parse_enumerate,
    parse_get,
    parse_identify,
    parse_invoke,
    parse_response,
    resource_uri,
)

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ALLOWED", "TARGETS", "check_cimxml", "check_response", "exercise_instance"]

#: What a parser may raise on hostile input: a typed protocol error or the server's fault.
ALLOWED: Final = (ProtocolError, WSManFault)

_OPTIONS = RequestOptions(to="http://127.0.0.1:5985/wsman")
_URI = resource_uri("root/virtualization/v2", "Msvm_ComputerSystem")
_METHODS = ("RequestStateChange", "GetSummaryInformation", "DefineSystem")


def _getters(inst: CimInstance, name: str) -> list[Callable[[], object]]:
    calls: list[Callable[[], object]] = [
        lambda: inst.get_str(name),
        lambda: inst.get_int(name),
        lambda: inst.get_bool(name),
        lambda: inst.get_float(name),
        lambda: inst.get_datetime(name),
        lambda: inst.get_interval(name),
        lambda: inst.get_epr(name),
        lambda: inst.get_list(name),
        lambda: inst.get_int_list(name),
        lambda: inst.get_epr_list(name),
    ]
    for cim_type in CimType:
        for array in (False, True):
            calls.append(functools.partial(inst.typed, name, cim_type, array=array))
    return calls


def exercise_instance(inst: CimInstance, depth: int = 0) -> None:
    """Call every typed getter on every property; only ProtocolError may come out."""
    repr(inst)
    _ = inst == inst
    for name in list(inst):
        for call in _getters(inst, name):
            try:
                value = call()
            except ProtocolError:
                continue
            if depth < 3:
                _exercise_value(value, depth + 1)


def _exercise_value(value: object, depth: int) -> None:
    if isinstance(value, CimInstance):
        exercise_instance(value, depth)
    elif isinstance(value, EmbeddedInstance):
        _exercise_embedded(value)
    elif isinstance(value, list):
        for item in value:
            _exercise_value(item, depth)


def _exercise_embedded(inst: EmbeddedInstance) -> None:
    """Write it back out and read it again: what was parsed must serialize and round-trip."""
    text = to_cimxml(inst)
    again = parse_cimxml(text)
    assert to_cimxml(again) == text, "CIM-XML does not round-trip"


def check_response(data: bytes) -> None:
    """The client's response path: envelope, faults, every body parser, every getter."""
    try:
        resp = parse_response(data)
    except ALLOWED:
        return
    _exercise_response(resp)
    for state in ("enumerate", "pull"):
        enum = Enumeration(_URI, options=_OPTIONS, max_pulls=3)
        enum.start()
        try:
            if state == "pull":
                enum.receive(_OPENING)
            items = enum.receive(data)
        except ALLOWED:
            continue
        for item in items:
            if isinstance(item, CimInstance):
                exercise_instance(item)
        try:
            while enum.next_request() is not None:
                enum.receive(data)
        except ALLOWED:
            pass
        enum.release_request()


def _invoke(resp: Response, *, method: str) -> object:
    return parse_invoke(resp, method)


def _exercise_response(resp: Response) -> None:
    parsers: list[Callable[[Response], object]] = [parse_get, parse_enumerate, parse_identify]
    parsers += [functools.partial(_invoke, method=m) for m in _METHODS]
    for parse in parsers:
        try:
            result = parse(resp)
        except ProtocolError:
            continue
        if isinstance(result, CimInstance):
            exercise_instance(result)
        elif isinstance(result, EnumerationBatch):
            for item in result.items:
                if isinstance(item, CimInstance):
                    exercise_instance(item)
        elif isinstance(result, MethodResult):
            _ = result.job
            exercise_instance(result.as_instance())
        else:
            assert isinstance(result, dict), type(result)  # parse_identify


_OPENING = (
    b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
    b' xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><s:Body>'
    b"<n:EnumerateResponse><n:EnumerationContext>c</n:EnumerationContext>"
    b"</n:EnumerateResponse></s:Body></s:Envelope>"
)


def check_cimxml(data: bytes) -> None:
    """The CIM-XML path: any text (invalid UTF-8 kept as lone surrogates) to parse_cimxml."""
    text = data.decode("utf-8", "surrogateescape")
    try:
        inst = parse_cimxml(text)
    except ProtocolError:
        return
    _exercise_embedded(inst)
    for _name, (_cim_type, value) in inst.properties.items():
        _exercise_value(value, 1)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "response": check_response,
    "cimxml": check_cimxml,
}
