"""The Enumerate -> Pull ... -> EndOfSequence state machine, bytes in and bytes out.

The transport drives it without knowing WS-Enumeration::

    enum = Enumeration(uri, options=opts, filter=Filter.wql(query))
    request = enum.start()
    while request is not None:
        items = enum.receive(await post(request))      # raises WSManFault / ProtocolError
        ...yield items...
        request = enum.next_request()
    # on early exit (break, cancel, error): send enum.release_request() if it is not None
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from aiohyperv._exceptions import OperationTimedOut, ProtocolError
from aiohyperv.cim._xml import DEFAULT_MAX_SIZE
from aiohyperv.wsman._envelope import (
    DEFAULT_MAX_ELEMENTS,
    EnumerationMode,
    Filter,
    RequestOptions,
    Selectors,
    build_enumerate,
    build_pull,
    build_release,
)
from aiohyperv.wsman._ns import Action
from aiohyperv.wsman._response import parse_enumerate, parse_response

if TYPE_CHECKING:
    from aiohyperv.cim._epr import EPR
    from aiohyperv.cim._instance import CimInstance

__all__ = ["Enumeration", "EnumerationState"]


class EnumerationState(Enum):
    """Where an ``Enumeration`` is."""

    NEW = "new"  # start() not called yet
    ENUMERATING = "enumerating"  # Enumerate sent, no answer yet
    PULLING = "pulling"  # a context is open; next_request() gives a Pull
    DONE = "done"  # EndOfSequence seen (or released): nothing more to send


class Enumeration:
    """Drives one enumeration: says what to send next and parses what comes back.

    Args:
        resource_uri: the class (or ``*`` wildcard) resource URI of the Enumerate.
        options: the session's ``RequestOptions``.
        filter: a WQL, selector or association filter.
        mode: objects, EPRs, or both.
        max_elements: items per batch (Enumerate with OptimizeEnumeration, and each Pull).
        max_pulls: refuse to send more than this many Pulls (a guard against a server that never
            says EndOfSequence); ``None`` for no limit.
        pull_resource_uri: the URI to send Pull/Release to; defaults to ``resource_uri``
            (Windows accepts both the class and the ``*`` URI here).
        optimize: ask for the first batch inside the EnumerateResponse.
        max_size: the largest response accepted, in bytes.
        max_rows: refuse more than this many items in all (a guard against a server that
            never ends and so would fill the consumer's memory); ``None`` for no limit.
    """

    def __init__(
        self,
        resource_uri: str,
        *,
        options: RequestOptions,
        filter: Filter | None = None,
        mode: EnumerationMode = EnumerationMode.OBJECTS,
        max_elements: int = DEFAULT_MAX_ELEMENTS,
        max_pulls: int | None = None,
        pull_resource_uri: str | None = None,
        optimize: bool = True,
        selectors: Selectors | None = None,
        max_size: int = DEFAULT_MAX_SIZE,
        max_rows: int | None = None,
    ) -> None:
        self.resource_uri = resource_uri
        self.pull_resource_uri = pull_resource_uri or resource_uri
        self.options = options
        self.filter = filter
        self.mode = mode
        self.max_elements = max_elements
        self.max_pulls = max_pulls
        self.optimize = optimize
        self.selectors = selectors
        self.max_size = max_size
        self.max_rows = max_rows
        self.state = EnumerationState.NEW
        self.context: str | None = None
        self.pulls = 0
        self.items_received = 0

    def __repr__(self) -> str:
        return (
            f"<Enumeration {self.resource_uri.rpartition('/')[2]} {self.state.value}"
            f" pulls={self.pulls} items={self.items_received}>"
        )

    @property
    def done(self) -> bool:
        """True once the server said EndOfSequence (or the context was released)."""
        return self.state is EnumerationState.DONE

    def start(self) -> bytes:
        """The Enumerate request.

        Raises:
            RuntimeError: called twice.
        """
        if self.state is not EnumerationState.NEW:
            raise RuntimeError(f"enumeration already started ({self.state.value})")
        self.state = EnumerationState.ENUMERATING
        return build_enumerate(
            self.resource_uri,
            options=self.options,
            filter=self.filter,
            mode=self.mode,
            optimize=self.optimize,
            max_elements=self.max_elements,
            selectors=self.selectors,
        )

    def receive(self, data: bytes) -> list[CimInstance | EPR]:
        """Parse the answer to the last request and return its items.

        A fault is raised as its ``WSManFault`` subclass and leaves the state as it was, so the
        same step can be retried: after ``OperationTimedOut`` on a Pull, ``next_request()``
        gives the Pull again (fresh MessageID, same context).

        Raises:
            WSManFault: the server answered with a fault.
            ProtocolError: the answer is not an Enumerate/Pull response, the server neither
                closed the sequence nor gave a context, sent more items than ``max_elements``
                in one answer, or more than ``max_rows`` in all.  The context is kept, so
                ``release_request()`` still releases it.
            RuntimeError: nothing is awaiting an answer.
        """
        if self.state in (EnumerationState.NEW, EnumerationState.DONE):
            raise RuntimeError(f"no request awaits an answer ({self.state.value})")
        resp = parse_response(data, max_size=self.max_size)
        expected = (
            Action.ENUMERATE_RESPONSE
            if self.state is EnumerationState.ENUMERATING
            else Action.PULL_RESPONSE
        )
        if resp.action is not None and resp.action != expected:
            raise ProtocolError(f"expected {expected.value}, got action {resp.action}")
        batch = parse_enumerate(resp)
        if batch.end_of_sequence:
            self.state = EnumerationState.DONE
            self.context = None
        else:
            self.state = EnumerationState.PULLING
            self.context = batch.context
        count = len(batch.items)
        self.items_received += count
        if count > self.max_elements:
            # DSP0226 R8.2.3-3 (MaxElements): the service must not exceed it.  A server that
            # does anyway could hand over any number of items per answer.
            raise ProtocolError(
                f"enumeration of {self.resource_uri} sent {count} items in one answer, "
                f"after asking for at most {self.max_elements}"
            )
        if self.max_rows is not None and self.items_received > self.max_rows:
            raise ProtocolError(
                f"enumeration of {self.resource_uri} passed {self.max_rows} items "
                "(Limits.max_rows_per_query); abandoned"
            )
        return batch.items

    def next_request(self) -> bytes | None:
        """The next Pull, or ``None`` when the enumeration is done.

        Raises:
            ProtocolError: ``max_pulls`` Pulls were sent and the server still has more.
            RuntimeError: called before ``start()``.
        """
        if self.state is EnumerationState.DONE:
            return None
        if self.state is EnumerationState.NEW:
            raise RuntimeError("call start() first")
        if self.context is None:
            raise RuntimeError("the Enumerate has not been answered yet")
        if self.max_pulls is not None and self.pulls >= self.max_pulls:
            raise ProtocolError(
                f"enumeration of {self.resource_uri} did not end after {self.pulls} pulls"
            )
        self.pulls += 1
        return build_pull(
            self.pull_resource_uri,
            self.context,
            options=self.options,
            max_elements=self.max_elements,
        )

    def release_request(self) -> bytes | None:
        """A Release for the open context (early exit), or ``None`` when none is open.

        The enumeration counts as done afterwards: the context must not be pulled again.
        """
        if self.context is None or self.state is EnumerationState.DONE:
            return None
        context, self.context = self.context, None
        self.state = EnumerationState.DONE
        return build_release(self.pull_resource_uri, context, options=self.options)

    @staticmethod
    def is_retryable(exc: BaseException) -> bool:
        """True for the fault Windows sends when a Pull had nothing within OperationTimeout."""
        return isinstance(exc, OperationTimedOut)
