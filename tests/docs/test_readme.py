"""The README's library example runs, against simulated hosts instead of hv01/hv02."""

from __future__ import annotations

import re
from pathlib import Path

import aiohyperv
from aiohyperv.testing import HostSpec, run_simulator

README = Path(__file__).resolve().parents[2] / "README.md"


def _first_python_block() -> str:
    match = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert match is not None, "README has no python example"
    return match.group(1)


async def test_readme_example_runs(capsys: object) -> None:
    code = _first_python_block()
    assert code.rstrip().endswith("asyncio.run(main())")
    specs = [HostSpec(name="hv01", vms=4, seed=5), HostSpec(name="hv02", vms=3, seed=6)]
    async with run_simulator(*specs) as sim:
        one, two = sim.uris
        async with aiohyperv.connect(one, auth=aiohyperv.StaticAuth("admin", "secret")) as conn:
            off = [
                d for d in await conn.list_domains(active=False) if not await d.has_managed_save()
            ]
        assert off, "the simulated host needs a VM that is shut off"
        code = (
            code.replace('"hyperv://admin@hv01/"', repr(one))
            .replace('"hyperv://hv01/"', repr(one))
            .replace('"hyperv://hv02/"', repr(two))
            .replace('"web-01"', repr(off[0].name))
            .replace("asyncio.run(main())", "")
        )
        namespace: dict[str, object] = {}
        exec(compile(code, str(README), "exec"), namespace)
        main = namespace["main"]
        await main()  # type: ignore[operator]
        async with aiohyperv.connect(one, auth=aiohyperv.StaticAuth("admin", "secret")) as conn:
            started = await conn.lookup_domain_by_name(off[0].name)
            state, _ = await started.state()
            assert state is aiohyperv.DomainState.RUNNING
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert out.splitlines()[0] == "hv01 1000.17.763"
    for uri in (one, two):  # each fleet host printed with its inventory, not an error
        label = aiohyperv.parse_uri(uri).host_label
        line = next(line for line in out.splitlines() if line.startswith(label))
        assert "HostInventory(" in line
