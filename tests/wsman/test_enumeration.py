"""The Enumerate -> Pull -> EndOfSequence state machine, driven by the server-side codec."""

from __future__ import annotations

import pytest

from aiohyperv._exceptions import InvalidEnumerationContext, OperationTimedOut, ProtocolError
from aiohyperv.cim import EPR, CimInstance
from aiohyperv.simulator._codec import (
    build_enumerate_response,
    build_fault,
    build_pull_response,
    build_response,
    parse_enumerate_request,
    parse_pull_request,
    parse_release_request,
    parse_request,
)
from aiohyperv.wsman import (
    NAMESPACE_V2,
    Action,
    Enumeration,
    EnumerationMode,
    EnumerationState,
    Filter,
    RequestOptions,
    resource_uri,
    wildcard_uri,
)

OPTS = RequestOptions(to="http://127.0.0.1:5985/wsman")
CS = resource_uri(NAMESPACE_V2, "Msvm_ComputerSystem")


def vms(n: int) -> list[CimInstance]:
    return [
        CimInstance.from_values(
            "Msvm_ComputerSystem",
            CS,
            {"Name": f"VM-{i}", "EnabledState": 2, "OperationalStatus": [2, 3]},
            epr=EPR.make(CS, {"Name": f"VM-{i}", "CreationClassName": "Msvm_ComputerSystem"}),
        )
        for i in range(n)
    ]


class FakeServer:
    """Serves a list in batches with the server codec, like the simulator will."""

    def __init__(self, items: list[CimInstance], *, optimized_batch: bool = True) -> None:
        self.items = items
        self.pos = 0
        self.context = "uuid:C0000000-0000-4000-8000-000000000001"
        self.optimized_batch = optimized_batch
        self.released: list[str] = []
        self.pull_uris: list[str | None] = []
        self.mode = EnumerationMode.OBJECTS

    def _take(self, n: int) -> tuple[list[CimInstance], bool]:
        batch = self.items[self.pos : self.pos + n]
        self.pos += len(batch)
        return batch, self.pos >= len(self.items)

    def handle(self, data: bytes) -> bytes:
        req = parse_request(data)
        if req.action == Action.ENUMERATE:
            opts = parse_enumerate_request(req)
            self.mode = opts.mode
            if opts.optimize and self.optimized_batch:
                batch, end = self._take(opts.max_elements or 1)
                return build_enumerate_response(
                    batch,
                    context=self.context,
                    end_of_sequence=end,
                    relates_to=req.message_id,
                    mode=opts.mode,
                )
            return build_enumerate_response(
                None, context=self.context, end_of_sequence=False, relates_to=req.message_id
            )
        if req.action == Action.PULL:
            self.pull_uris.append(req.resource_uri)
            context, max_elements = parse_pull_request(req)
            assert context == self.context
            batch, end = self._take(max_elements or 1)
            return build_pull_response(
                batch,
                context=self.context,
                end_of_sequence=end,
                relates_to=req.message_id,
                mode=self.mode,
            )
        if req.action == Action.RELEASE:
            self.released.append(parse_release_request(req))
            return build_response(Action.RELEASE_RESPONSE, relates_to=req.message_id, body=None)
        raise AssertionError(req.action)


def plain(items: list[CimInstance]) -> list[CimInstance]:
    """What objects-mode parsing gives back: the same instances, without their EPRs."""
    return [CimInstance(v.class_name, v.resource_uri, dict(v.properties)) for v in items]


def drive(enum: Enumeration, server: FakeServer) -> list[list[CimInstance | EPR]]:
    batches = []
    request: bytes | None = enum.start()
    while request is not None:
        batches.append(enum.receive(server.handle(request)))
        request = enum.next_request()
    return batches


@pytest.mark.parametrize(
    ("total", "max_elements", "sizes"),
    [
        (0, 10, [[0]]),
        (1, 10, [[1]]),
        (10, 10, [[10]]),
        (11, 10, [[10], [1]]),
        (25, 10, [[10], [10], [5]]),
        (5, 1, [[1]] * 5),
    ],
)
def test_optimized_enumeration_batches(
    total: int, max_elements: int, sizes: list[list[int]]
) -> None:
    server = FakeServer(vms(total))
    enum = Enumeration(
        wildcard_uri(NAMESPACE_V2),
        options=OPTS,
        filter=Filter.wql("SELECT * FROM Msvm_ComputerSystem"),
        max_elements=max_elements,
        pull_resource_uri=CS,
    )
    assert (enum.state, enum.done) == (EnumerationState.NEW, False)
    batches = drive(enum, server)
    assert [[len(b)] for b in batches] == sizes
    got = [item for batch in batches for item in batch]
    assert got == plain(server.items)
    assert (enum.state, enum.done) == (EnumerationState.DONE, True)
    assert enum.items_received == total
    assert enum.pulls == len(sizes) - 1
    assert enum.next_request() is None
    assert enum.release_request() is None  # the server closed the context itself
    assert server.pull_uris == [CS] * enum.pulls


def test_unoptimized_enumeration_pulls_first_batch() -> None:
    server = FakeServer(vms(3), optimized_batch=False)
    enum = Enumeration(CS, options=OPTS, max_elements=2, optimize=False)
    batches = drive(enum, server)
    assert [len(b) for b in batches] == [0, 2, 1]
    assert server.pull_uris == [CS, CS]


@pytest.mark.parametrize(
    "mode", [EnumerationMode.EPR, EnumerationMode.OBJECT_AND_EPR], ids=["epr", "object-and-epr"]
)
def test_modes(mode: EnumerationMode) -> None:
    server = FakeServer(vms(3))
    enum = Enumeration(CS, options=OPTS, mode=mode, max_elements=2)
    items = [item for batch in drive(enum, server) for item in batch]
    expected_eprs = [v.epr for v in server.items]
    if mode is EnumerationMode.EPR:
        assert items == expected_eprs
    else:
        assert all(isinstance(i, CimInstance) for i in items)
        assert [i.epr for i in items if isinstance(i, CimInstance)] == expected_eprs


def test_early_exit_releases_the_context() -> None:
    server = FakeServer(vms(10))
    enum = Enumeration(CS, options=OPTS, max_elements=3)
    assert len(enum.receive(server.handle(enum.start()))) == 3
    release = enum.release_request()
    assert release is not None
    server.handle(release)
    assert server.released == [server.context]
    assert enum.done
    assert enum.release_request() is None
    assert enum.next_request() is None


def test_timed_out_pull_is_retried_with_same_context() -> None:
    server = FakeServer(vms(4))
    enum = Enumeration(CS, options=OPTS, max_elements=2)
    enum.receive(server.handle(enum.start()))
    pull = enum.next_request()
    assert pull is not None
    fault = build_fault(
        code="Receiver",
        subcode="TimedOut",
        reason="The WS-Management service cannot complete the operation within the time"
        " specified in OperationTimeout.",
        wsman_code=2150858793,
        machine="hv01",
        relates_to=parse_request(pull).message_id,
    )
    with pytest.raises(OperationTimedOut) as info:
        enum.receive(fault)
    assert Enumeration.is_retryable(info.value)
    assert enum.state is EnumerationState.PULLING
    again = enum.next_request()
    assert again is not None
    first, second = parse_request(pull), parse_request(again)
    assert parse_pull_request(first) == parse_pull_request(second)
    assert first.message_id != second.message_id
    assert enum.receive(server.handle(again)) == plain(server.items[2:4])
    assert enum.done


def test_invalid_context_fault_is_typed_and_not_retryable() -> None:
    enum = Enumeration(CS, options=OPTS)
    enum.start()
    fault = build_fault(
        code="Sender",
        subcode="InvalidEnumerationContext",
        reason="The enumeration context supplied in the message is not valid.",
        wsman_code=2150858767,
        machine="hv01",
    )
    with pytest.raises(InvalidEnumerationContext) as info:
        enum.receive(fault)
    assert info.value.subcode == "InvalidEnumerationContext"
    assert not Enumeration.is_retryable(info.value)


def test_max_pulls_guards_a_server_that_never_ends() -> None:
    enum = Enumeration(CS, options=OPTS, max_pulls=2)
    endless = build_pull_response([], context="ctx", end_of_sequence=False)
    enum.start()
    enum.receive(build_enumerate_response([], context="ctx", end_of_sequence=False))
    for _ in range(2):
        assert enum.next_request() is not None
        enum.receive(endless)
    with pytest.raises(ProtocolError, match="did not end after 2 pulls"):
        enum.next_request()


def test_wrong_response_action_is_a_protocol_error() -> None:
    enum = Enumeration(CS, options=OPTS)
    enum.start()
    with pytest.raises(ProtocolError, match=r"expected .*EnumerateResponse"):
        enum.receive(build_pull_response([], context="ctx", end_of_sequence=False))


def test_misuse_raises_runtime_error() -> None:
    enum = Enumeration(CS, options=OPTS)
    with pytest.raises(RuntimeError):
        enum.next_request()
    with pytest.raises(RuntimeError):
        enum.receive(b"")
    enum.start()
    with pytest.raises(RuntimeError):
        enum.start()
    with pytest.raises(RuntimeError):
        enum.next_request()  # the Enumerate has no answer yet
    assert "Msvm_ComputerSystem" in repr(enum)
