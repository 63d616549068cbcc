"""WQL as WMI implements it, over the simulator's served classes.

Supported (WMI's WQL reference, "WQL (SQL for WMI)", "ASSOCIATORS OF", "REFERENCES OF"):

* ``SELECT * | p1, p2 FROM Class [WHERE expr]`` -- deep: instances of subclasses are included.
* ``expr``: ``AND``/``OR``/``NOT``, parentheses, comparisons ``= != <> < > <= >=`` between a
  property and a constant (either side), ``prop [NOT] LIKE 'pattern'`` with ``%``, ``_``,
  ``[abc]``, ``[a-z]`` and ``[^a]``, ``prop IS [NOT] NULL``.  String comparisons ignore case,
  like WMI.  A property may also be compared with a system property, on either side
  (``Name != __SERVER``: libvirt >= 6.9 selects every VM that way, ``hyperv_driver.c``
  ``MSVM_COMPUTERSYSTEM_WQL_SELECT`` + ``WHERE Name != __SERVER``, against real hosts).
  Comparing two ordinary properties or using an array property is an invalid query, as in WMI.
* constants: single- or double-quoted strings (a backslash escapes ``\\``, ``'`` and ``"``;
  any other escape is an invalid query), integers (decimal or ``0x`` hex), reals, ``TRUE``,
  ``FALSE``, ``NULL``.
* system properties: ``__CLASS``, ``__SUPERCLASS``, ``__DYNASTY``, ``__NAMESPACE``,
  ``__SERVER``, ``__PATH``, ``__RELPATH``, ``__GENUS``, ``__PROPERTY_COUNT``.
* ``ASSOCIATORS OF {path} [WHERE AssocClass = A ResultClass = R ResultRole = X Role = Y
  RequiredQualifier = Q RequiredAssocQualifier = Q]`` and ``REFERENCES OF {path} [WHERE
  ResultClass = A Role = Y RequiredQualifier = Q]``; ``ClassDefsOnly`` is refused (WS-Man cannot
  return class definitions).

Errors raise :class:`WQLError` carrying the WBEM status WMI would return.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeAlias

from aiohyperv.cim import CimType, parse_cim_datetime
from aiohyperv.simulator._instance import Instance, Ref, parse_object_path
from aiohyperv.simulator._locale import localize
from aiohyperv.simulator._providers import instances_of, resolve, served_namespaces, vm_for_keys
from aiohyperv.simulator._schema import SCHEMAS, ClassDef, PropDef, Schema

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from aiohyperv.simulator._host import VM, SimulatedHost

__all__ = [
    "WBEM_E_INVALID_CLASS",
    "WBEM_E_INVALID_NAMESPACE",
    "WBEM_E_INVALID_QUERY",
    "WBEM_E_NOT_FOUND",
    "Associators",
    "Query",
    "Select",
    "WQLError",
    "associators",
    "execute",
    "parse_wql",
]

WBEM_E_NOT_FOUND = 0x80041002
WBEM_E_INVALID_NAMESPACE = 0x8004100E
WBEM_E_INVALID_CLASS = 0x80041010
WBEM_E_INVALID_QUERY = 0x80041017
WBEM_E_INVALID_QUERY_TYPE = 0x80041018


class WQLError(Exception):
    """A query WMI would refuse; ``code`` is the WBEM status (``0x80041017`` invalid query)."""

    def __init__(self, message: str, code: int = WBEM_E_INVALID_QUERY) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# --- tokens ---------------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>-?(?:0[xX][0-9a-fA-F]+|\d+\.\d*(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?))
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><>|!=|<=|>=|=|<|>)
      | (?P<punct>[(),*])
      | (?P<quote>['"])
      | (?P<brace>\{)
    )""",
    re.VERBOSE,
)
_ESCAPABLE = frozenset("\\'\"")


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # num ident op punct str path end
    value: object
    text: str


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    length = len(text)
    while True:
        while pos < length and text[pos].isspace():
            pos += 1
        if pos >= length:
            tokens.append(_Tok("end", None, ""))
            return tokens
        match = _TOKEN.match(text, pos)
        if match is None:
            raise WQLError(f"unexpected character {text[pos]!r} at {pos}")
        kind = match.lastgroup or ""
        if kind == "quote":
            value, pos = _read_string(text, match.end() - 1)
            tokens.append(_Tok("str", value, value))
            continue
        if kind == "brace":
            end = _find_brace_end(text, match.end())
            tokens.append(_Tok("path", text[match.end() : end].strip(), ""))
            pos = end + 1
            continue
        raw = match.group(kind)
        pos = match.end()
        if kind == "num":
            if pos < length and (text[pos].isalnum() or text[pos] == "_"):
                raise WQLError(f"bad number near {raw!r}")
            number: object
            if raw.lower().lstrip("-").startswith("0x"):
                number = int(raw, 16)
            elif any(c in raw for c in ".eE"):
                number = float(raw)
            else:
                number = int(raw)
            tokens.append(_Tok("num", number, raw))
        else:
            tokens.append(_Tok(kind, raw, raw))


def _read_string(text: str, pos: int) -> tuple[str, int]:
    quote = text[pos]
    out: list[str] = []
    i = pos + 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text) or text[i + 1] not in _ESCAPABLE:
                raise WQLError("a backslash in a WQL string must escape \\, ' or \"")
            out.append(text[i + 1])
            i += 2
            continue
        if c == quote:
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise WQLError("unterminated string constant")


def _find_brace_end(text: str, pos: int) -> int:
    quote = ""
    i = pos
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "}":
            return i
        i += 1
    raise WQLError("object path is missing its closing brace")


# --- syntax tree ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Compare:
    prop: str
    op: str
    value: object


@dataclass(frozen=True, slots=True)
class _Like:
    prop: str
    pattern: re.Pattern[str]
    negate: bool


@dataclass(frozen=True, slots=True)
class _IsNull:
    prop: str
    negate: bool


@dataclass(frozen=True, slots=True)
class _Bool:
    op: str  # and / or / not
    args: tuple[_Expr, ...]


@dataclass(frozen=True, slots=True)
class _CompareSystem:
    """``prop op __SYSTEM`` (a constant-free comparison WMI allows: ``Name != __SERVER``)."""

    prop: str
    op: str
    system: str


_Expr = _Compare | _CompareSystem | _Like | _IsNull | _Bool


@dataclass(frozen=True, slots=True)
class Select:
    """``SELECT props FROM class_name WHERE where`` (``props`` is ``None`` for ``*``)."""

    class_name: str
    props: tuple[str, ...] | None
    where: _Expr | None


@dataclass(frozen=True, slots=True)
class Associators:
    """``ASSOCIATORS OF`` (or, with ``references``, ``REFERENCES OF``) a path."""

    path: str
    references: bool
    assoc_class: str | None = None
    result_class: str | None = None
    role: str | None = None
    result_role: str | None = None


Query = Select | Associators

_FLIP = {"=": "=", "!=": "!=", "<>": "<>", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> _Tok:
        return self.tokens[self.pos]

    def take(self) -> _Tok:
        tok = self.tokens[self.pos]
        if tok.kind != "end":
            self.pos += 1
        return tok

    def keyword(self, *words: str) -> str | None:
        tok = self.peek()
        if tok.kind == "ident" and str(tok.value).upper() in words:
            self.pos += 1
            return str(tok.value).upper()
        return None

    def expect_keyword(self, word: str) -> None:
        if self.keyword(word) is None:
            raise WQLError(f"expected {word} near {self.peek().text!r}")

    def ident(self, what: str) -> str:
        tok = self.take()
        if tok.kind != "ident":
            raise WQLError(f"expected {what} near {tok.text!r}")
        return str(tok.value)

    def parse(self) -> Query:
        first = self.keyword("SELECT", "ASSOCIATORS", "REFERENCES")
        if first is None:
            raise WQLError("a WQL query starts with SELECT, ASSOCIATORS OF or REFERENCES OF")
        query: Query
        if first == "SELECT":
            query = self.select()
        else:
            query = self.associators(references=first == "REFERENCES")
        if self.peek().kind != "end":
            raise WQLError(f"unexpected {self.peek().text!r} at the end of the query")
        return query

    def select(self) -> Select:
        props: list[str] | None = []
        if self.peek().kind == "punct" and self.peek().value == "*":
            self.take()
            props = None
        else:
            assert props is not None
            props.append(self.ident("a property name"))
            while self.peek().kind == "punct" and self.peek().value == ",":
                self.take()
                props.append(self.ident("a property name"))
        self.expect_keyword("FROM")
        class_name = self.ident("a class name")
        where = None
        if self.keyword("WHERE"):
            where = self.or_expr()
        return Select(class_name, tuple(props) if props is not None else None, where)

    def or_expr(self) -> _Expr:
        args = [self.and_expr()]
        while self.keyword("OR"):
            args.append(self.and_expr())
        return args[0] if len(args) == 1 else _Bool("or", tuple(args))

    def and_expr(self) -> _Expr:
        args = [self.not_expr()]
        while self.keyword("AND"):
            args.append(self.not_expr())
        return args[0] if len(args) == 1 else _Bool("and", tuple(args))

    def not_expr(self) -> _Expr:
        if self.keyword("NOT"):
            return _Bool("not", (self.not_expr(),))
        tok = self.peek()
        if tok.kind == "punct" and tok.value == "(":
            self.take()
            inner = self.or_expr()
            close = self.take()
            if close.kind != "punct" or close.value != ")":
                raise WQLError("missing closing parenthesis")
            return inner
        return self.comparison()

    def constant(self) -> tuple[bool, object]:
        tok = self.peek()
        if tok.kind in ("str", "num"):
            self.take()
            return True, tok.value
        if tok.kind == "ident" and str(tok.value).upper() in ("TRUE", "FALSE", "NULL"):
            self.take()
            word = str(tok.value).upper()
            return True, None if word == "NULL" else word == "TRUE"
        return False, None

    def comparison(self) -> _Expr:
        is_const, left_value = self.constant()
        if is_const:  # constant on the left: 5 < Prop
            op = self.take()
            if op.kind != "op":
                raise WQLError(f"expected an operator near {op.text!r}")
            prop = self.ident("a property name")
            return _Compare(prop, _norm(_FLIP[str(op.value)]), left_value)
        prop = self.ident("a property name")
        if self.peek().kind == "op" and self.tokens[self.pos + 1].kind == "ident":
            nxt = self.tokens[self.pos + 1]
            word = str(nxt.value)
            if word.upper() not in ("TRUE", "FALSE", "NULL"):
                sign = str(self.take().value)
                other = self.ident("a property name")
                if other.lower() in _SYSTEM:
                    return _CompareSystem(prop, _norm(sign), other.lower())
                if prop.lower() in _SYSTEM:  # __SERVER = Name
                    return _CompareSystem(other, _norm(_FLIP[sign]), prop.lower())
                raise WQLError(
                    "WQL compares a property with a constant or a system property, "
                    "not with another property"
                )
        if self.keyword("IS"):
            negate = self.keyword("NOT") is not None
            self.expect_keyword("NULL")
            return _IsNull(prop, negate)
        negate = self.keyword("NOT") is not None
        if self.keyword("LIKE"):
            tok = self.take()
            if tok.kind != "str":
                raise WQLError("LIKE needs a string pattern")
            return _Like(prop, _like_regex(str(tok.value)), negate)
        if negate:
            raise WQLError("NOT here must be followed by LIKE")
        op = self.take()
        if op.kind != "op":
            raise WQLError(f"expected an operator after {prop} near {op.text!r}")
        is_const, value = self.constant()
        if not is_const:
            raise WQLError("WQL compares a property with a constant, not with another property")
        if value is None and str(op.value) in ("=", "!=", "<>"):
            return _IsNull(prop, str(op.value) != "=")
        return _Compare(prop, _norm(str(op.value)), value)

    def associators(self, *, references: bool) -> Associators:
        self.expect_keyword("OF")
        tok = self.take()
        if tok.kind != "path":
            raise WQLError("expected {object path} after OF")
        path = str(tok.value)
        options: dict[str, str] = {}
        allowed = {
            "ASSOCCLASS",
            "RESULTCLASS",
            "ROLE",
            "RESULTROLE",
            "REQUIREDQUALIFIER",
            "REQUIREDASSOCQUALIFIER",
            "CLASSDEFSONLY",
            "KEYSONLY",
            "SCHEMAONLY",
        }
        if references:
            allowed -= {"ASSOCCLASS", "RESULTROLE", "REQUIREDASSOCQUALIFIER"}
        if self.keyword("WHERE"):
            while self.peek().kind == "ident":
                word = str(self.take().value).upper()
                if word not in allowed:
                    raise WQLError(f"{word} is not allowed here")
                if word in ("CLASSDEFSONLY", "SCHEMAONLY"):
                    raise WQLError(f"{word} returns class definitions, which WS-Man cannot carry")
                if word == "KEYSONLY":
                    continue
                op = self.take()
                if op.kind != "op" or op.value != "=":
                    raise WQLError(f"expected = after {word}")
                options[word] = self.ident(f"a value for {word}")
            if not options and self.peek().kind == "end":
                raise WQLError("WHERE needs at least one keyword")
        return Associators(
            path=path,
            references=references,
            assoc_class=options.get("ASSOCCLASS"),
            result_class=options.get("RESULTCLASS"),
            role=options.get("ROLE"),
            result_role=options.get("RESULTROLE"),
        )


def _norm(op: str) -> str:
    return "!=" if op == "<>" else op


def _like_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] == "^" else i + 1)
            if end < 0:
                raise WQLError("unterminated [ ] in a LIKE pattern")
            body = pattern[i + 1 : end]
            negate = body.startswith("^")
            if negate:
                body = body[1:]
            parts: list[str] = []
            j = 0
            while j < len(body):
                if j + 2 < len(body) and body[j + 1] == "-":
                    parts.append(f"{re.escape(body[j])}-{re.escape(body[j + 2])}")
                    j += 3
                else:
                    parts.append(re.escape(body[j]))
                    j += 1
            out.append(f"[{'^' if negate else ''}{''.join(parts)}]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def parse_wql(text: str) -> Query:
    """Parse a WQL query (raises :class:`WQLError` for anything WMI would call invalid).

    Parsed queries are immutable and clients send the same few queries over and over (a fleet
    inventory sends the same dozen to every host), so the result is cached by query text;
    invalid queries raise every time (exceptions are not cached).
    """
    return _parse_cached(text)


@functools.lru_cache(maxsize=1024)
def _parse_cached(text: str) -> Query:
    if not text or not text.strip():
        raise WQLError("empty query")
    return _Parser(text).parse()


# --- evaluation -----------------------------------------------------------------------------------
_SYSTEM = frozenset(
    {
        "__class",
        "__superclass",
        "__dynasty",
        "__namespace",
        "__server",
        "__path",
        "__relpath",
        "__genus",
        "__property_count",
    }
)
_NUMERIC = frozenset(
    {
        CimType.UINT8,
        CimType.SINT8,
        CimType.UINT16,
        CimType.SINT16,
        CimType.UINT32,
        CimType.SINT32,
        CimType.UINT64,
        CimType.SINT64,
        CimType.REAL32,
        CimType.REAL64,
    }
)


def _system_value(host: SimulatedHost, inst: Instance, name: str) -> object:
    cls = inst.cls
    if name == "__class":
        return cls.name
    if name == "__superclass":
        return cls.superclasses[0] if cls.superclasses else None
    if name == "__dynasty":
        return cls.superclasses[-1] if cls.superclasses else cls.name
    if name == "__namespace":
        return cls.namespace.replace("/", "\\")
    if name == "__server":
        return host.computer_name
    if name == "__path":
        return inst.ref().path(host.computer_name)
    if name == "__relpath":
        return inst.ref().relpath()
    if name == "__genus":
        return 2
    return len(cls.properties)  # __property_count


def _property_def(classes: list[ClassDef], name: str) -> PropDef | None:
    for cls in classes:
        prop = cls.prop(name)
        if prop is not None:
            return prop
    return None


def _check_expr(expr: _Expr, classes: list[ClassDef]) -> None:
    if isinstance(expr, _Bool):
        for arg in expr.args:
            _check_expr(arg, classes)
        return
    name = expr.prop.lower()
    if name in _SYSTEM:
        return
    prop = _property_def(classes, name)
    if prop is None:
        raise WQLError(f"{expr.prop} is not a property of the queried class")
    if prop.array:
        raise WQLError(f"{expr.prop} is an array; WQL cannot test array properties")
    if isinstance(expr, _Compare) and prop.type is CimType.REFERENCE and expr.op not in ("=", "!="):
        raise WQLError("references can only be compared with = or !=")


def _coerce_constant(value: object, prop_type: CimType) -> object:
    if prop_type in _NUMERIC:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int | float):
            return value
        if isinstance(value, str):
            try:
                return float(value) if "." in value else int(value, 0)
            except ValueError:
                raise WQLError(f"{value!r} is not a number") from None
    if prop_type is CimType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise WQLError(f"{value!r} is not a boolean")
    if prop_type is CimType.DATETIME:
        if isinstance(value, str):
            try:
                return parse_cim_datetime(value)
            except ValueError:
                raise WQLError(f"{value!r} is not a DMTF datetime") from None
        raise WQLError("datetimes are compared with DMTF datetime strings")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def _order(a: object, b: object) -> int | None:
    """-1/0/1 for two values WQL can compare (strings ignore case), ``None`` if it cannot."""
    if isinstance(a, str) and isinstance(b, str):
        x, y = a.casefold(), b.casefold()
        return (x > y) - (x < y)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return (a > b) - (a < b)
    if isinstance(a, timedelta) and isinstance(b, timedelta):
        return (a > b) - (a < b)
    if isinstance(a, datetime) and isinstance(b, datetime):
        try:
            return (a > b) - (a < b)
        except TypeError:  # naive against aware
            return None
    return None


_OUTCOMES = {
    "=": (0,),
    "!=": (-1, 1),
    "<": (-1,),
    ">": (1,),
    "<=": (-1, 0),
    ">=": (0, 1),
}


def _compare(actual: object, op: str, wanted: object) -> bool:
    order = _order(actual, wanted)
    return order is not None and order in _OUTCOMES[op]


# (constant, its type, property type) -> the constant coerced to the property's type.  A query
# is evaluated against every candidate instance, and parsed queries are cached, so the same few
# constants are coerced over and over.  Failures are not cached: they raise every time.
_COERCED: dict[tuple[object, type, CimType], object] = {}


def _coerced(value: object, prop_type: CimType) -> object:
    key = (value, value.__class__, prop_type)
    try:
        return _COERCED[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable constant (none today): no caching
        return _coerce_constant(value, prop_type)
    wanted = _coerce_constant(value, prop_type)
    if len(_COERCED) >= 4096:  # bounded: constants come from clients
        _COERCED.clear()
    _COERCED[key] = wanted
    return wanted


def _matches(host: SimulatedHost, inst: Instance, expr: _Expr) -> bool:
    if isinstance(expr, _Bool):
        # Loops, not all()/any() over generators: this runs for every candidate instance.
        if expr.op == "and":
            for arg in expr.args:
                if not _matches(host, inst, arg):
                    return False
            return True
        if expr.op == "or":
            for arg in expr.args:
                if _matches(host, inst, arg):
                    return True
            return False
        return not _matches(host, inst, expr.args[0])
    name = expr.prop.lower()
    prop = None if name in _SYSTEM else inst.cls.prop(name)
    if name in _SYSTEM:
        actual = _system_value(host, inst, name)
        prop_type = CimType.UINT32 if name in ("__genus", "__property_count") else CimType.STRING
    elif prop is None:
        return False  # a property only some subclasses have: NULL for the others
    else:
        actual = inst.values.get(prop.name)
        prop_type = prop.type
    if isinstance(expr, _IsNull):
        return (actual is None) != expr.negate
    if actual is None:
        return False
    if isinstance(expr, _CompareSystem):
        other = _system_value(host, inst, expr.system)
        if other is None or prop_type is CimType.REFERENCE:
            return False
        try:
            wanted = _coerce_constant(other, prop_type)
        except WQLError:
            return False  # e.g. a uint16 property against __SERVER: never equal
        return _compare(actual, expr.op, wanted)
    if isinstance(expr, _Like):
        return (expr.pattern.fullmatch(_text(actual)) is not None) != expr.negate
    if prop_type is CimType.REFERENCE:
        if not isinstance(actual, Ref) or not isinstance(expr.value, str):
            return False
        try:
            other = parse_object_path(expr.value, actual.namespace)
        except ValueError:
            return False
        same = actual.matches(other)
        return same if expr.op == "=" else not same
    wanted = _coerced(expr.value, prop_type)
    return _compare(actual, expr.op, wanted)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def _schema_for(host: SimulatedHost, namespace: str) -> Schema:
    schema = SCHEMAS.get(namespace)
    if schema is None or namespace not in served_namespaces(host):
        raise WQLError(f"namespace {namespace} is not served", WBEM_E_INVALID_NAMESPACE)
    return schema


def _classes_for(host: SimulatedHost, namespace: str, class_name: str) -> list[ClassDef]:
    schema = _schema_for(host, namespace)
    missing = host.faults.unregistered_classes
    if class_name.lower() in missing:
        raise WQLError(f"{class_name} is not a class in {namespace}", WBEM_E_INVALID_CLASS)
    classes = schema.concrete_subclasses(class_name)
    if not classes and class_name not in schema:
        raise WQLError(f"{class_name} is not a class in {namespace}", WBEM_E_INVALID_CLASS)
    return [c for c in classes if c.name.lower() not in missing]


def execute(
    host: SimulatedHost, namespace: str, query: Query
) -> tuple[list[Instance], frozenset[str] | None]:
    """Run a parsed query: the matching instances and, for a projection, the kept properties."""
    if isinstance(query, Associators):
        found = associators(host, namespace, query)
        if host.spec.locale != "en-US":
            found = [localize(host, inst) for inst in found]
        return found, None
    classes = _classes_for(host, namespace, query.class_name)
    projection: frozenset[str] | None = None
    if query.props is not None:
        for name in query.props:
            if name.lower() not in _SYSTEM and _property_def(classes, name) is None:
                raise WQLError(f"{name} is not a property of {query.class_name}")
        projection = frozenset(p.lower() for p in query.props)
    if query.where is not None:
        _check_expr(query.where, classes)
    scope = _scope(host, query.where)
    candidates: Iterable[Instance] = instances_of(host, namespace, query.class_name, vm=scope)
    if host.spec.locale != "en-US":  # WHERE sees the texts the host shows (Description...)
        candidates = [localize(host, inst) for inst in candidates]
    if query.where is None:
        return list(candidates), projection
    test = _predicate(query.where)
    return [inst for inst in candidates if test(host, inst)], projection


Predicate: TypeAlias = "Callable[[SimulatedHost, Instance], bool]"

# id(expression) -> (expression, its predicate).  Expressions come from the parse cache, so the
# same few are evaluated against every candidate instance of every host.
_PREDICATES: dict[int, tuple[_Expr, Predicate]] = {}


def _predicate(expr: _Expr) -> Predicate:
    """``lambda host, inst: _matches(host, inst, expr)``, specialized once per expression.

    Comparisons of ordinary properties with constants (what nearly every query is made of)
    look their property up once per class and compare without going through the general
    dispatch; everything else (system properties, LIKE, IS NULL, references) uses
    :func:`_matches` itself, so the results are the same by construction.
    """
    entry = _PREDICATES.get(id(expr))
    if entry is not None and entry[0] is expr:
        return entry[1]
    test = _build_predicate(expr)
    if len(_PREDICATES) >= 1024:  # bounded: expressions come from clients
        _PREDICATES.clear()
    _PREDICATES[id(expr)] = (expr, test)
    return test


def _build_predicate(expr: _Expr) -> Predicate:
    if isinstance(expr, _Bool):
        tests = tuple(_build_predicate(arg) for arg in expr.args)
        if expr.op == "and":

            def all_of(host: SimulatedHost, inst: Instance) -> bool:
                for test in tests:
                    if not test(host, inst):
                        return False
                return True

            return all_of
        if expr.op == "or":
            tests = _grouped(expr.args, tests)

            def any_of(host: SimulatedHost, inst: Instance) -> bool:
                for test in tests:
                    if test(host, inst):
                        return True
                return False

            return any_of
        (inner,) = tests
        return lambda host, inst: not inner(host, inst)
    name = expr.prop.lower()
    if not isinstance(expr, _Compare) or name in _SYSTEM:
        return lambda host, inst: _matches(host, inst, expr)
    value, op = expr.value, expr.op
    # id(class) -> (class, its property, the constant in the property's type or _UNSET, and
    # its casefold when it is a string tested for equality)
    plans: dict[int, tuple[ClassDef, PropDef | None, object, str | None]] = {}

    def compare(host: SimulatedHost, inst: Instance) -> bool:
        cls = inst.cls
        plan = plans.get(id(cls))
        if plan is None or plan[0] is not cls:
            prop = cls.prop(name)
            plan = plans[id(cls)] = (cls, prop, _UNSET, None)
        prop = plan[1]
        if prop is None:
            return False  # a property only some subclasses have: NULL for the others
        actual = inst.values.get(prop.name)
        if actual is None:
            return False
        if prop.type is CimType.REFERENCE:
            return _matches(host, inst, expr)
        wanted = plan[2]
        if wanted is _UNSET:  # coerced on first use: an invalid constant raises then, as before
            wanted = _coerced(value, prop.type)
            folded = wanted.casefold() if op == "=" and isinstance(wanted, str) else None
            plans[id(cls)] = (cls, prop, wanted, folded)
        else:
            folded = plan[3]
        if folded is not None and isinstance(actual, str):
            return actual.casefold() == folded  # _order's string rule, for "="
        return _compare(actual, op, wanted)

    return compare


_UNSET = object()


def _grouped(args: tuple[_Expr, ...], tests: tuple[Predicate, ...]) -> tuple[Predicate, ...]:
    """The terms of an OR, with each run of consecutive ``p = c`` terms on the same ordinary
    property merged into one set lookup (:func:`_one_of`); order and the other terms kept."""
    out: list[Predicate] = []
    i = 0
    while i < len(args):
        name = _equality_prop(args[i])
        j = i + 1
        while name is not None and j < len(args) and _equality_prop(args[j]) == name:
            j += 1
        if j - i >= 2:
            out.append(_one_of(args[i:j], tests[i:j]))
        else:
            out.append(tests[i])
        i = j
    return tuple(out)


def _equality_prop(arg: _Expr) -> str | None:
    if isinstance(arg, _Compare) and arg.op == "=":
        name = arg.prop.lower()
        return None if name in _SYSTEM else name
    return None


def _one_of(args: tuple[_Expr, ...], tests: tuple[Predicate, ...]) -> Predicate:
    """``p = c1 OR p = c2 OR ...`` as one set lookup (what WQL lacks an IN for).

    Per class, the constants are coerced to the property's type once; strings are compared
    case-folded and numbers by value, exactly as the terms one by one would.  Any other case (a
    reference, a datetime, a constant that does not coerce) evaluates the terms one by one, so
    errors and results stay those of :func:`_matches`.
    """
    values = [arg.value for arg in args if isinstance(arg, _Compare)]
    name = _equality_prop(args[0])
    # id(class) -> (class, its property, the set of wanted values or None: term by term)
    plans: dict[int, tuple[ClassDef, PropDef | None, frozenset[object] | None]] = {}

    def plan_for(cls: ClassDef) -> tuple[ClassDef, PropDef | None, frozenset[object] | None]:
        prop = cls.prop(name) if name is not None else None
        wanted: frozenset[object] | None = None
        if prop is not None and prop.type is not CimType.REFERENCE:
            try:
                coerced = [_coerced(value, prop.type) for value in values]
            except WQLError:
                coerced = []  # let the terms raise where they would
            if coerced and all(isinstance(c, str) for c in coerced):
                wanted = frozenset(c.casefold() for c in coerced)  # type: ignore[attr-defined]
            elif coerced and all(
                isinstance(c, int | float) and c == c  # not NaN
                for c in coerced
            ):
                wanted = frozenset(coerced)
        return cls, prop, wanted

    def one_of(host: SimulatedHost, inst: Instance) -> bool:
        cls = inst.cls
        plan = plans.get(id(cls))
        if plan is None or plan[0] is not cls:
            plan = plans[id(cls)] = plan_for(cls)
        _cls, prop, wanted = plan
        if wanted is None:
            for test in tests:
                if test(host, inst):
                    return True
            return False
        if prop is None:
            return False
        actual = inst.values.get(prop.name)
        if isinstance(actual, str):
            return actual.casefold() in wanted
        if isinstance(actual, int | float):
            return actual in wanted
        return False  # NULL, or a value no constant of this kind can equal

    return one_of


def _scope(host: SimulatedHost, where: _Expr | None) -> VM | None:
    """A VM that every match must belong to (``WHERE Name = '<guid>'``), to avoid a full scan."""
    if isinstance(where, _Compare) and where.op == "=" and isinstance(where.value, str):
        if where.prop.lower() in ("name", "instanceid", "systemname", "virtualsystemidentifier"):
            return vm_for_keys(host, [where.value])
    if isinstance(where, _Bool) and where.op == "and":
        for arg in where.args:
            found = _scope(host, arg)
            if found is not None:
                return found
    return None


def associators(host: SimulatedHost, namespace: str, query: Associators) -> list[Instance]:
    """Run ``ASSOCIATORS OF`` / ``REFERENCES OF``."""
    try:
        ref = parse_object_path(query.path, namespace)
    except ValueError as exc:
        raise WQLError(str(exc)) from None
    schema = _schema_for(host, ref.namespace)
    src_cls = schema.get(ref.class_name)
    if src_cls is None:
        raise WQLError(f"{ref.class_name} is not a class", WBEM_E_INVALID_CLASS)
    if len(ref.keys) == 1 and ref.keys[0][0] == "":
        if len(src_cls.keys) != 1:
            raise WQLError(f"{ref.class_name} has more than one key")
        ref = Ref.make(ref.namespace, src_cls.name, {src_cls.keys[0]: ref.keys[0][1]})
    source = resolve(host, ref)
    if source is None:
        raise WQLError(f"{ref.relpath()} was not found", WBEM_E_NOT_FOUND)
    src_ref = source.ref()
    scope = vm_for_keys(host, [v for _, v in src_ref.keys])
    wanted_assoc = query.result_class if query.references else query.assoc_class
    results: list[Instance] = []
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for assoc_cls in schema.classes():
        if not assoc_cls.association or (wanted_assoc and not assoc_cls.is_a(wanted_assoc)):
            continue
        roles = assoc_cls.reference_props
        for assoc in instances_of(host, ref.namespace, assoc_cls.name, vm=scope):
            for role in roles:
                if query.role and role.name.lower() != query.role.lower():
                    continue
                value = assoc.values.get(role.name)
                if not isinstance(value, Ref) or not value.matches(src_ref):
                    continue
                if query.references:
                    key = (assoc_cls.name, assoc.ref().keys)
                    if key not in seen:
                        seen.add(key)
                        results.append(assoc)
                    continue
                for other in roles:
                    if other is role:
                        continue
                    if query.result_role and other.name.lower() != query.result_role.lower():
                        continue
                    target = assoc.values.get(other.name)
                    if not isinstance(target, Ref):
                        continue
                    if query.result_class and not _target_is_a(target, query.result_class):
                        continue
                    found = resolve(host, target)
                    if found is None:
                        continue
                    if query.result_class and not found.cls.is_a(query.result_class):
                        continue
                    key = (found.cls.name, found.ref().keys)
                    if key not in seen:
                        seen.add(key)
                        results.append(found)
    return results


def _target_is_a(target: Ref, class_name: str) -> bool:
    schema = SCHEMAS.get(target.namespace)
    cls = schema.get(target.class_name) if schema is not None else None
    return cls is None or cls.is_a(class_name)
