"""WMI object paths as Hyper-V writes them into properties.

Settings refer to each other by path, e.g. a disk's ``Parent``::

    \\\\HV01\\root\\virtualization\\v2:Msvm_ResourceAllocationSettingData.InstanceID="Microsoft:...\\\\..."

Inside the quotes a backslash and a double quote are escaped with a backslash.  These helpers
read such paths (class and keys) and write them for ``Parent``/``HostResource`` parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["WmiPath", "format_path", "parse_path"]


@dataclass(frozen=True, slots=True)
class WmiPath:
    """A parsed object path: optional server and namespace, class name and key values."""

    server: str | None
    namespace: str | None
    class_name: str
    keys: dict[str, str]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def format_path(
    class_name: str,
    keys: dict[str, str],
    *,
    server: str | None = None,
    namespace: str | None = None,
) -> str:
    """Write ``\\\\server\\namespace:Class.Key="value",...`` (server/namespace optional)."""
    body = class_name + "." + ",".join(f'{k}="{_escape(v)}"' for k, v in keys.items())
    if namespace is None:
        return body
    ns = namespace.replace("/", "\\")
    prefix = f"\\\\{server}\\{ns}:" if server else f"{ns}:"
    return prefix + body


def parse_path(path: str) -> WmiPath | None:
    """Parse an object path; ``None`` when it is not one (free text, ``NODRIVE`` markers...)."""
    server: str | None = None
    namespace: str | None = None
    rest = path.strip()
    # Server and namespace never hold ':', so with a server the first ':' ends the namespace.
    # Without one, a ':' counts only before the class's '.' (key values hold colons).
    if rest.startswith("\\\\"):
        colon = rest.find(":")
    else:
        dot = rest.find(".")
        colon = rest.rfind(":", 0, dot if dot >= 0 else len(rest))
    if colon >= 0:
        head, rest = rest[:colon], rest[colon + 1 :]
        if head.startswith("\\\\"):
            server, _, ns = head[2:].partition("\\")
            namespace = ns.replace("\\", "/") or None
        else:
            namespace = head.replace("\\", "/") or None
    class_name, dot_sep, key_text = rest.partition(".")
    if not class_name or not class_name.replace("_", "").isalnum():
        return None
    keys: dict[str, str] = {}
    if dot_sep:
        i = 0
        n = len(key_text)
        while i < n:
            eq = key_text.find("=", i)
            if eq < 0:
                return None
            name = key_text[i:eq].strip()
            i = eq + 1
            if i < n and key_text[i] in "\"'":
                quote = key_text[i]
                i += 1
                chars: list[str] = []
                while i < n and key_text[i] != quote:
                    if key_text[i] == "\\" and i + 1 < n:
                        i += 1
                    chars.append(key_text[i])
                    i += 1
                if i >= n:
                    return None
                i += 1
                value = "".join(chars)
            else:
                end = key_text.find(",", i)
                end = n if end < 0 else end
                value = key_text[i:end].strip()
                i = end
            keys[name] = value
            if i < n:
                if key_text[i] != ",":
                    return None
                i += 1
    return WmiPath(server, namespace, class_name, keys)
