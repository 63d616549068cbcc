"""Run one fuzz target for a fixed time: atheris (libFuzzer, coverage-guided) when installed,
else a pure-Python mutation fuzzer with the same command line.

Usage (from the repository root)::

    python fuzz/fuzz_response.py -max_total_time=60
    python fuzz/fuzz_cimxml.py -max_total_time=60 -seed=1
    python fuzz/fuzz_response.py --pure -max_total_time=60     # force the fallback

Seeds come from ``tests/data`` (real and golden Windows traffic) and from the saved crashes in
``tests/reliability/corpus``.  A crash (any exception the target does not allow) is written to
``tests/reliability/corpus/<target>-crash-<sha1>`` -- where ``test_corpus_replay.py`` replays it on
every test run -- and the run exits non-zero.  The last line printed is a summary with the number
of executions, for the README's reliability section.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import random
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "reliability" / "corpus"
SEED_DIRS = {
    "response": [ROOT / "tests" / "data", CORPUS],
    "cimxml": [CORPUS],
}

# Tokens a mutation may splice in: the grammar's sharp edges.
TOKENS = [
    b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>",
    b"&e;",
    b"&amp;",
    b"&#0;",
    b"&#x1F600;",
    b"]]>",
    b"<![CDATA[",
    b'xsi:nil="true"',
    b'xmlns:p="urn:x"',
    b"<n:EnumerationContext>c</n:EnumerationContext>",
    b"<w:EndOfSequence/>",
    b"<n:Items>",
    b"</n:Items>",
    b"<w:Item>",
    b"<p:ReturnValue>4096</p:ReturnValue>",
    b"<a:EndpointReference>",
    b"<w:Selector Name='Name'>",
    b"<cim:Datetime>",
    b"<cim:Interval>",
    b"20200101000000.000000+060",
    b"00000001000000.000000:000",
    b"P1DT2H",
    b"18446744073709551616",
    b"-1",
    b"NaN",
    b"1e309",
    b"<VALUE.ARRAY>",
    b"<VALUE.NULL/>",
    b"<PROPERTY NAME='x' TYPE='uint8'>",
    b"<PROPERTY.REFERENCE NAME='r'>",
    b"<PROPERTY.ARRAY NAME='a' TYPE='datetime'>",
    b"EmbeddedObject='instance'",
    b"<INSTANCE CLASSNAME='C'>",
    b"<KEYBINDING NAME='k'><KEYVALUE>v</KEYVALUE></KEYBINDING>",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\x00",
    b"\r\n",
]

CIMXML_SEEDS = [
    b"<INSTANCE CLASSNAME='Msvm_VirtualSystemSettingData'>"
    b"<PROPERTY NAME='ElementName' TYPE='string'><VALUE>vm &amp; co</VALUE></PROPERTY>"
    b"<PROPERTY.ARRAY NAME='BootOrder' TYPE='uint16'><VALUE.ARRAY><VALUE>1</VALUE>"
    b"<VALUE.NULL/></VALUE.ARRAY></PROPERTY.ARRAY>"
    b"<PROPERTY NAME='Created' TYPE='datetime'><VALUE>20200101000000.000000+000</VALUE>"
    b"</PROPERTY></INSTANCE>",
    b"<INSTANCE CLASSNAME='Msvm_StorageAllocationSettingData'>"
    b"<PROPERTY.REFERENCE NAME='Parent' REFERENCECLASS='Msvm_ResourcePool'><VALUE.REFERENCE>"
    b"<LOCALINSTANCEPATH><LOCALNAMESPACEPATH><NAMESPACE NAME='root'/>"
    b"<NAMESPACE NAME='virtualization'/><NAMESPACE NAME='v2'/></LOCALNAMESPACEPATH>"
    b"<INSTANCENAME CLASSNAME='Msvm_ResourcePool'><KEYBINDING NAME='InstanceID'>"
    b"<KEYVALUE VALUETYPE='string'>Microsoft:x</KEYVALUE></KEYBINDING></INSTANCENAME>"
    b"</LOCALINSTANCEPATH></VALUE.REFERENCE></PROPERTY.REFERENCE>"
    b"<PROPERTY NAME='Inner' TYPE='string' EmbeddedObject='instance'><VALUE>"
    b"&lt;INSTANCE CLASSNAME='X'&gt;&lt;PROPERTY NAME='A' TYPE='real64'&gt;&lt;VALUE&gt;1.5"
    b"&lt;/VALUE&gt;&lt;/PROPERTY&gt;&lt;/INSTANCE&gt;</VALUE></PROPERTY></INSTANCE>",
]


def _target(name: str) -> Callable[[bytes], None]:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "src"))
    from tests.reliability.fuzz_targets import TARGETS

    return TARGETS[name]


def load_seeds(name: str) -> list[bytes]:
    """Seed inputs: Windows traffic and goldens, saved crashes, built-in CIM-XML samples."""
    seeds: list[bytes] = list(CIMXML_SEEDS) if name == "cimxml" else []
    for folder in SEED_DIRS[name]:
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.suffix in (".md", ".txt"):
                continue
            if folder == CORPUS and not path.name.startswith(name + "-"):
                continue
            data = path.read_bytes()
            if name == "cimxml" and b"<INSTANCE" in data:
                # CIM-XML travels escaped inside envelopes: pull out the unescaped text.
                for match in re.finditer(rb"&lt;INSTANCE.*?&lt;/INSTANCE&gt;", data, re.S):
                    seeds.append(
                        match.group()
                        .replace(b"&lt;", b"<")
                        .replace(b"&gt;", b">")
                        .replace(b"&amp;", b"&")
                    )
            seeds.append(data)
    return seeds


def save_crash(name: str, data: bytes) -> Path:
    CORPUS.mkdir(parents=True, exist_ok=True)
    path = CORPUS / f"{name}-crash-{hashlib.sha1(data).hexdigest()[:16]}"
    path.write_bytes(data)
    return path


def _args(argv: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for arg in argv:
        match = re.fullmatch(r"-(\w+)=(.*)", arg)
        if match:
            out[match.group(1)] = match.group(2)
    return out


# --- the pure-Python fallback ---------------------------------------------------------------------
class Mutator:
    """Byte-level and token-level mutations in the spirit of libFuzzer's."""

    def __init__(self, rng: random.Random, pool: list[bytes]) -> None:
        self.rng = rng
        self.pool = pool

    def mutate(self, data: bytes) -> bytes:
        rng = self.rng
        buf = bytearray(data)
        for _ in range(rng.choice((1, 1, 2, 3, 5))):
            op = rng.randrange(10)
            pos = rng.randrange(len(buf) + 1)
            if op == 0 and buf:  # flip a bit
                i = rng.randrange(len(buf))
                buf[i] ^= 1 << rng.randrange(8)
            elif op == 1 and buf:  # random byte
                buf[rng.randrange(len(buf))] = rng.randrange(256)
            elif op == 2:  # insert a token
                buf[pos:pos] = rng.choice(TOKENS)
            elif op == 3 and buf:  # delete a run
                end = min(len(buf), pos + rng.randrange(1, 64))
                del buf[pos:end]
            elif op == 4 and buf:  # duplicate a run
                end = min(len(buf), pos + rng.randrange(1, 256))
                buf[pos:pos] = buf[pos:end] * rng.randrange(1, 4)
            elif op == 5:  # truncate
                del buf[pos:]
            elif op == 6 and self.pool:  # splice with another input
                other = rng.choice(self.pool)
                cut = rng.randrange(len(other) + 1)
                buf[pos:] = other[cut:]
            elif op == 7 and buf:  # swap a tag name for another one seen in the pool
                names = re.findall(rb"<(/?[\w:.]+)", bytes(buf))
                if names:
                    old = rng.choice(names)
                    other = rng.choice(self.pool) if self.pool else bytes(buf)
                    new = re.findall(rb"<(/?[\w:.]+)", other) or [old]
                    buf = bytearray(bytes(buf).replace(old, rng.choice(new), 1))
            elif op == 8:  # an interesting number where a number was
                nums = list(re.finditer(rb"\d+", bytes(buf)))
                if nums:
                    m = rng.choice(nums)
                    buf[m.start() : m.end()] = rng.choice(
                        [b"0", b"-1", b"4096", b"65536", b"18446744073709551616", b"1e999", b"x"]
                    )
            else:  # insert random bytes
                buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
        return bytes(buf[: 1 << 20])


def run_pure(name: str, target: Callable[[bytes], None], argv: list[str]) -> int:
    args = _args(argv)
    budget = float(args.get("max_total_time", "60"))
    runs = int(args.get("runs", "-1"))
    rng = random.Random(int(args.get("seed", "0")) or None)
    seeds = load_seeds(name)
    corpus = list(seeds)
    seen: set[str] = set()
    from tests.reliability.fuzz_targets import ALLOWED

    mutator = Mutator(rng, corpus)
    start = time.monotonic()
    execs = 0
    crashes = 0
    print(f"pure-python fuzzer: target {name}, {len(seeds)} seeds, {budget:g} s", flush=True)
    next_report = start + 10
    while time.monotonic() - start < budget and (runs < 0 or execs < runs):
        parent = rng.choice(corpus)
        data = mutator.mutate(parent)
        execs += 1
        try:
            target(data)
            outcome = "ok:" + str(min(len(data) // 512, 64))
        except ALLOWED as exc:
            outcome = type(exc).__name__ + ":" + re.sub(r"\d+", "N", str(exc))[:80]
        except Exception:
            crashes += 1
            path = save_crash(name, data)
            print(f"CRASH saved to {path}", flush=True)
            traceback.print_exc()
            break
        if outcome not in seen:
            seen.add(outcome)
            corpus.append(data)
        now = time.monotonic()
        if now >= next_report:
            rate = execs / (now - start)
            print(f"#{execs} corpus: {len(corpus)} outcomes: {len(seen)} exec/s: {rate:.0f}")
            next_report = now + 10
    elapsed = time.monotonic() - start
    print(
        f"DONE target={name} engine=pure-python execs={execs} seconds={elapsed:.1f} "
        f"exec/s={execs / max(elapsed, 1e-9):.0f} corpus={len(corpus)} outcomes={len(seen)} "
        f"crashes={crashes}",
        flush=True,
    )
    return 1 if crashes else 0


# --- atheris ------------------------------------------------------------------------------------
def run_atheris(name: str, argv: list[str]) -> int:
    atheris: Any = importlib.import_module("atheris")  # untyped, and optional

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "src"))
    with atheris.instrument_imports(include=["aiohyperv"]):
        import aiohyperv.cim
        import aiohyperv.wsman  # noqa: F401  # instrumented for coverage feedback
    from tests.reliability.fuzz_targets import TARGETS

    target = TARGETS[name]
    work = Path(tempfile.mkdtemp(prefix=f"aiohyperv-fuzz-{name}-"))
    for i, seed in enumerate(load_seeds(name)):
        (work / f"seed-{i:04d}").write_bytes(seed)
    args = [a for a in argv if not a.startswith("--")]
    if not any(a.startswith("-artifact_prefix=") for a in args):
        CORPUS.mkdir(parents=True, exist_ok=True)
        args.append(f"-artifact_prefix={CORPUS}/{name}-")
    if not any(a.startswith("-max_len=") for a in args):
        args.append("-max_len=65536")
    args.insert(1, str(work))
    if not any(a.startswith("-dict=") for a in args):
        # The same grammar tokens the fallback splices in, as a libFuzzer dictionary.
        tokens = work.parent / f"{work.name}.dict"
        tokens.write_text("".join('"' + "".join(f"\\x{b:02x}" for b in t) + '"\n' for t in TOKENS))
        args.append(f"-dict={tokens}")
    # libFuzzer prints the totals itself at the end ("Done N runs in S second(s)").

    def one_input(data: bytes) -> None:
        target(data)

    atheris.Setup(args, one_input)
    atheris.Fuzz()
    return 0


def main(name: str) -> int:
    argv = list(sys.argv)
    pure = "--pure" in argv
    if not pure:
        try:
            importlib.import_module("atheris")
        except ImportError:
            print("atheris is not installed; using the pure-Python fuzzer", file=sys.stderr)
            pure = True
    if pure:
        os.environ.setdefault("PYTHONHASHSEED", "0")
        return run_pure(name, _target(name), argv[1:])
    return run_atheris(name, argv)
