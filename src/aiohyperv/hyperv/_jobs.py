"""Method results and Msvm_ConcreteJob waiting.

A Hyper-V method either finishes at once (ReturnValue 0), starts a job (4096, with a ``Job``
reference to a Msvm_ConcreteJob), or fails (anything else).  Jobs are polled asynchronously with
exponential backoff (``initial`` doubling up to ``cap``) until they end or a deadline passes; the
event loop is never blocked.  libvirt polls every 100 ms for up to five minutes; os-win's jobutils
backs off the same way.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from aiohyperv._exceptions import (
    CimMethodError,
    JobFailed,
    NotFound,
    ProtocolError,
    WSManFault,
)
from aiohyperv._log import logger
from aiohyperv.cim import EPR
from aiohyperv.wsman import Filter

from ._enums import JobState, ReturnCode, return_code
from ._wql import concrete_job

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from aiohyperv.cim import CimInstance
    from aiohyperv.wsman import EnumerationMode, InvokeValue, MethodResult

__all__ = ["JobPolicy", "MethodSession", "check_result", "wait_for_job"]


class MethodSession(Protocol):
    """The part of :class:`~aiohyperv._transport.WSManSession` the driver uses."""

    async def get(self, resource_uri: str, selectors: Mapping[str, str]) -> CimInstance: ...

    async def invoke(
        self,
        resource_uri: str,
        method: str,
        *,
        selectors: Mapping[str, str],
        params: Mapping[str, InvokeValue],
    ) -> MethodResult: ...

    def enumerate(
        self,
        resource_uri: str,
        *,
        filter: Filter | None = ...,
        mode: EnumerationMode = ...,
        max_elements: int | None = ...,
    ) -> AsyncIterator[CimInstance | EPR]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class JobPolicy:
    """How long and how often to poll a job.

    Attributes:
        timeout: give up after this many seconds (libvirt: 300).
        initial: first poll delay in seconds.
        cap: longest delay between polls.
        factor: backoff multiplier.
    """

    timeout: float = 300.0
    initial: float = 0.05
    cap: float = 1.0
    factor: float = 2.0


def _fail(
    method: str, job: CimInstance | None, *, job_id: str | None, state: int | None
) -> JobFailed:
    code = job.get_int("ErrorCode") if job is not None else None
    desc = None
    if job is not None:
        desc = job.get_str("ErrorDescription") or job.get_str("ErrorSummaryDescription")
    try:
        state_name = JobState(state).name if state is not None else "unknown"
    except ValueError:
        state_name = str(state)
    text = f"{method} failed: job ended in state {state_name}"
    if code is not None:
        text += f" (error {code})"
    if desc:
        text += f": {desc}"
    return JobFailed(
        text,
        method=method,
        job_id=job_id,
        job_state=state,
        error_code=code,
        error_description=desc,
    )


async def _fetch_job(session: MethodSession, job: EPR, namespace_uri: str) -> CimInstance:
    try:
        return await session.get(job.resource_uri, dict(job.selectors))
    except (WSManFault, NotFound) as exc:
        # Some WinRM builds refuse a Get with the __cimnamespace selector the EPR carries;
        # fall back to the WQL form libvirt uses.
        instance_id = job.selector("InstanceID")
        if instance_id is None:
            raise
        logger.debug("job Get refused (%s); polling by WQL instead", type(exc).__name__)
        async for item in session.enumerate(
            namespace_uri, filter=Filter.wql(concrete_job(instance_id))
        ):
            if not isinstance(item, EPR):
                return item
        raise


async def wait_for_job(
    session: MethodSession,
    job: EPR,
    *,
    method: str,
    namespace_uri: str,
    policy: JobPolicy | None = None,
) -> CimInstance:
    """Poll the Msvm_ConcreteJob ``job`` until it completes.

    Args:
        session: the host's session.
        job: the ``Job`` reference a method returned.
        method: the method that started it (for errors).
        namespace_uri: the wildcard resource URI of its namespace (for the WQL fallback).
        policy: timeout and backoff.

    Returns:
        The completed job instance.

    Raises:
        JobFailed: the job ended in Terminated, Killed, Exception or Service, or did not end
            before ``policy.timeout`` (then ``job_state`` is the last state seen).
    """
    policy = policy or JobPolicy()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + policy.timeout
    delay = policy.initial
    job_id = job.selector("InstanceID")
    state: int | None = None
    inst: CimInstance | None = None
    while True:
        inst = await _fetch_job(session, job, namespace_uri)
        state = inst.get_int("JobState")
        if state == JobState.COMPLETED:
            return inst
        if state is not None and state in (
            JobState.TERMINATED,
            JobState.KILLED,
            JobState.EXCEPTION,
            JobState.SERVICE,
        ):
            raise _fail(method, inst, job_id=job_id, state=state)
        now = loop.time()
        if now >= deadline:
            err = _fail(method, inst, job_id=job_id, state=state)
            err.message = f"{method}: job {job_id} did not finish within {policy.timeout:g} s"
            err.error_description = err.error_description or "timed out waiting for the job"
            raise err
        logger.debug("job %s of %s in state %s; next poll in %.2f s", job_id, method, state, delay)
        await asyncio.sleep(min(delay, deadline - now))
        delay = min(delay * policy.factor, policy.cap)


def check_result(result: MethodResult, method: str) -> bool:
    """Classify a method result: ``False`` done, ``True`` a job to wait for.

    Raises:
        CimMethodError: a non-zero, non-4096 ReturnValue (``return_value`` is a ReturnCode
            when known), or 4096 without a Job reference.
        ProtocolError: no ReturnValue at all.  Every Hyper-V method returns one; an answer
            without it cannot say whether the change was made, so it is not taken as success
            (libvirt's ``hypervInvokeMethod`` fails it the same way).
    """
    value = result.return_value
    if value is None:
        raise ProtocolError(f"{method} answered without a ReturnValue; its outcome is unknown")
    if value == ReturnCode.COMPLETED_OK:
        return False
    if value == ReturnCode.TRANSITION_STARTED:
        if result.job is None:
            raise CimMethodError(
                f"{method} started a job but returned no Job reference",
                method=method,
                return_value=value,
            )
        return True
    code = return_code(value)
    label = code.name if isinstance(code, ReturnCode) else "unknown code"
    raise CimMethodError(f"{method} failed: {label} ({value})", method=method, return_value=code)
