"""Value types of resource attributes: each converts an input value or raises Invalid.

Conversions follow Neutron's: booleans from true/false, "true"/"false" (any case), 0/1 and
"0"/"1"; integers from numeric strings. Nothing else converts.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import netaddr

# JSON Schema patterns for /openapi.json: what the converters below accept, so that a
# generated request valid by the schema is also valid here (schemathesis checks it).
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = rf"{_OCTET}(\.{_OCTET}){{3}}"
_H = "[0-9a-fA-F]{1,4}"
IPV6 = (
    rf"(({_H}:){{7}}{_H}|({_H}:){{1,7}}:|({_H}:){{1,6}}:{_H}|({_H}:){{1,5}}(:{_H}){{1,2}}"
    rf"|({_H}:){{1,4}}(:{_H}){{1,3}}|({_H}:){{1,3}}(:{_H}){{1,4}}|({_H}:){{1,2}}(:{_H}){{1,5}}"
    rf"|{_H}:(:{_H}){{1,6}}|:((:{_H}){{1,7}}|:))"
)
MAC = "[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}"
_SEP_OCTET = "[:-][0-9a-fA-F]{2}"
_NONZERO_OCTET = "([1-9a-fA-F][0-9a-fA-F]|0[1-9a-fA-F])"
# Unicast (first octet even) and not all zeros, spelled out without look-ahead: a first
# octet other than 00, or 00 followed by k zero octets and then a non-zero one.
UNICAST_MACS = (
    f"([1-9a-fA-F][02468aceACE]|0[2468aceACE])({_SEP_OCTET}){{5}}",
    *(f"00([:-]00){{{k}}}[:-]{_NONZERO_OCTET}({_SEP_OCTET}){{{4 - k}}}" for k in range(5)),
)
CIDR4 = rf"{IPV4}/(3[0-2]|[12]?[0-9])"
CIDR6 = rf"{IPV6}/(12[0-8]|1[01][0-9]|[1-9]?[0-9])"


def pattern_schema(*alternatives: str) -> dict[str, Any]:
    """Return a string schema matching any one of the regex alternatives in full."""
    return {"type": "string", "pattern": "^(" + "|".join(f"({a})" for a in alternatives) + ")$"}


class Invalid(ValueError):
    """A value does not fit its type; the message is the human reason."""


@dataclass(frozen=True)
class Type:
    """Base of attribute types."""

    def convert(self, value: Any) -> Any:
        """Return the canonical value or raise Invalid."""
        return value

    def schema(self) -> dict[str, Any]:
        """Return the OpenAPI (JSON Schema) fragment of this type."""
        return {}

    @property
    def is_scalar(self) -> bool:
        """Return True when values can be compared for filters and sorting."""
        return True


# C0/C1 control characters and DEL are never part of a name, description or identifier
# (a NUL would also cut the string short in C code on the agents' side).
CONTROL_CHARS = r"\x00-\x1f\x7f-\x9f"
_CONTROL = re.compile(f"[{CONTROL_CHARS}]")


@dataclass(frozen=True)
class String(Type):
    """A string of at most `max_len` characters, without control characters."""

    max_len: int | None = 255
    min_len: int = 0
    pattern: str | None = None

    def convert(self, value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid(f"'{value}' is not a valid string")
        if _CONTROL.search(value):
            raise Invalid(f"{value!r} contains control characters")
        if self.max_len is not None and len(value) > self.max_len:
            raise Invalid(f"'{value}' exceeds maximum length of {self.max_len}")
        if len(value) < self.min_len:
            raise Invalid(f"'{value}' is too short (minimum length {self.min_len})")
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise Invalid(f"'{value}' does not match {self.pattern}")
        return value

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string"}
        if self.max_len is not None:
            out["maxLength"] = self.max_len
        if self.min_len:
            out["minLength"] = self.min_len
        no_controls = f"^[^{CONTROL_CHARS}]*$"
        if self.pattern:
            out["allOf"] = [{"pattern": f"^(?:{self.pattern})$"}, {"pattern": no_controls}]
        else:
            out["pattern"] = no_controls
        return out


@dataclass(frozen=True)
class Uuid(Type):
    """A UUID, normalised to lower-case dashed form."""

    def convert(self, value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid(f"'{value}' is not a valid UUID")
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise Invalid(f"'{value}' is not a valid UUID") from None

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "uuid"}


_TRUE = {"true": True, "1": True, "false": False, "0": False}


@dataclass(frozen=True)
class Bool(Type):
    """A boolean with Neutron's conversions."""

    def convert(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in _TRUE:
            return _TRUE[value.lower()]
        raise Invalid(f"'{value}' cannot be converted to boolean")

    def schema(self) -> dict[str, Any]:
        text = "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|0|1)$"
        return {
            "anyOf": [{"type": "boolean"}, {"enum": [0, 1]}, {"type": "string", "pattern": text}]
        }


@dataclass(frozen=True)
class Int(Type):
    """An integer in [minimum, maximum]; numeric strings convert."""

    minimum: int | None = None
    maximum: int | None = None

    def convert(self, value: Any) -> int:
        if isinstance(value, bool):
            raise Invalid(f"'{value}' is not an integer")
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise Invalid(f"'{value}' is not an integer") from None
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON does not tell 1702.0 from 1702 (nor does JSON Schema)
        if not isinstance(value, int):
            raise Invalid(f"'{value}' is not an integer")
        if self.minimum is not None and value < self.minimum:
            raise Invalid(f"'{value}' is too small - must be at least '{self.minimum}'")
        if self.maximum is not None and value > self.maximum:
            raise Invalid(f"'{value}' is too large - must be no larger than '{self.maximum}'")
        return value

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "integer"}
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        return out


@dataclass(frozen=True)
class Enum(Type):
    """One of `values`; with `fold_case`, input case is ignored and output is canonical."""

    values: tuple[Any, ...] = ()
    fold_case: bool = False

    def convert(self, value: Any) -> Any:
        if self.fold_case and isinstance(value, str):
            for choice in self.values:
                if isinstance(choice, str) and choice.lower() == value.lower():
                    return choice
        elif value in self.values and not isinstance(value, bool):
            return value
        raise Invalid(f"'{value}' is not in {list(self.values)}")

    def schema(self) -> dict[str, Any]:
        return {"enum": list(self.values)}


@dataclass(frozen=True)
class IntEnum(Enum):
    """One of integer `values`; numeric strings convert."""

    def convert(self, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        return super().convert(value)


@dataclass(frozen=True)
class IpAddress(Type):
    """An IPv4 or IPv6 address (optionally of one version), returned canonical."""

    version: int | None = None

    def convert(self, value: Any) -> str:
        address = parse_ip(value)
        if self.version is not None and address.version != self.version:
            raise Invalid(f"'{value}' is not a valid IPv{self.version} address")
        return str(address)

    def schema(self) -> dict[str, Any]:
        if self.version == 4:
            return pattern_schema(IPV4)
        if self.version == 6:
            return pattern_schema(IPV6)
        return pattern_schema(IPV4, IPV6)


@dataclass(frozen=True)
class Cidr(Type):
    """A CIDR. With `strict`, host bits must be zero (Neutron's subnet message); with
    `as_given`, host bits are kept (an address with its prefix length)."""

    strict: bool = True
    as_given: bool = False

    def convert(self, value: Any) -> str:
        network = parse_cidr(value, strict=self.strict)
        if self.as_given:
            return str(ipaddress.ip_interface(value.strip()))
        return str(network)

    def schema(self) -> dict[str, Any]:
        # Host bits (refused when strict) cannot be said in a pattern: that stays a 400.
        return pattern_schema(CIDR4, CIDR6)


@dataclass(frozen=True)
class IpOrCidr(Type):
    """An IP address or a CIDR (allowed address pairs)."""

    def convert(self, value: Any) -> str:
        if isinstance(value, str) and "/" in value:
            try:
                return str(ipaddress.ip_interface(value))
            except ValueError:
                raise Invalid(f"'{value}' is not a valid IP address or CIDR") from None
        return str(parse_ip(value))

    def schema(self) -> dict[str, Any]:
        return pattern_schema(IPV4, IPV6, CIDR4, CIDR6)


@dataclass(frozen=True)
class Mac(Type):
    """A unicast, non-zero MAC; `-` or `:` separated, any case; returned lower-case."""

    def convert(self, value: Any) -> str:
        return normalize_mac(value)

    def schema(self) -> dict[str, Any]:
        return pattern_schema(*UNICAST_MACS)


@dataclass(frozen=True)
class Obj(Type):
    """A JSON object; with `fields`, each key is validated and unknown keys are refused."""

    fields: tuple[tuple[str, Type, bool], ...] | None = None  # (name, type, required)
    max_bytes: int | None = None
    nullable_fields: frozenset[str] = frozenset()
    min_fields: int = 0  # at least this many of the fields (schema minProperties)

    @property
    def is_scalar(self) -> bool:
        return False

    def convert(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise Invalid(f"'{value}' is not a dictionary")
        if self.max_bytes is not None and len(repr(value)) > self.max_bytes:
            raise Invalid(f"exceeds the maximum size of {self.max_bytes} bytes")
        if self.fields is None:
            return dict(value)
        known = {name for name, _, _ in self.fields}
        unknown = sorted(set(value) - known)
        if unknown:
            raise Invalid(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
        out: dict[str, Any] = {}
        for name, typ, required in self.fields:
            if name not in value:
                if required:
                    raise Invalid(f"'{name}' is required")
                continue
            item = value[name]
            if item is None and name in self.nullable_fields:
                out[name] = None
                continue
            try:
                out[name] = typ.convert(item)
            except Invalid as exc:
                raise Invalid(f"{name}: {exc}") from None
        return out

    def schema(self) -> dict[str, Any]:
        if self.fields is None:
            return {"type": "object"}
        properties = {}
        for name, typ, _ in self.fields:
            field_schema = typ.schema()
            if name in self.nullable_fields:  # null is accepted (and means "unset")
                field_schema = {"anyOf": [field_schema, {"type": "null"}]}
            properties[name] = field_schema
        schema: dict[str, Any] = {
            "type": "object",
            "properties": properties,
            "required": [name for name, _, required in self.fields if required],
            "additionalProperties": False,
        }
        if self.min_fields:
            schema["minProperties"] = self.min_fields
        return schema


@dataclass(frozen=True)
class ListOf(Type):
    """A list of `item`; with `unique`, duplicates are refused (or collapsed)."""

    item: Type = field(default_factory=Type)
    unique: bool = False
    collapse_duplicates: bool = False
    max_items: int | None = None
    min_items: int = 0
    key: Callable[[Any], Any] | None = None

    @property
    def is_scalar(self) -> bool:
        return False

    def convert(self, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise Invalid(f"'{value}' is not a list")
        out = []
        for index, item in enumerate(value):
            try:
                out.append(self.item.convert(item))
            except Invalid as exc:
                raise Invalid(f"[{index}]: {exc}") from None
        if self.max_items is not None and len(out) > self.max_items:
            raise Invalid(f"more than {self.max_items} items")
        if len(out) < self.min_items:
            raise Invalid(f"at least {self.min_items} item(s) needed")
        if self.unique or self.collapse_duplicates:
            out = _unique(out, self.key or _freeze, collapse=self.collapse_duplicates)
        return out

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "array", "items": self.item.schema()}
        if self.min_items:
            out["minItems"] = self.min_items
        if self.max_items is not None:
            out["maxItems"] = self.max_items
        if self.unique and self.key is None:
            out["uniqueItems"] = True
        return out


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _unique(items: Sequence[Any], key: Callable[[Any], Any], collapse: bool) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for item in items:
        k = key(item)
        if k in seen:
            if collapse:
                continue
            raise Invalid(f"Duplicate items in the list: '{item}'")
        seen.add(k)
        out.append(item)
    return out


def parse_ip(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Parse an IP address (no prefix) or raise Invalid."""
    if not isinstance(value, str):
        raise Invalid(f"'{value}' is not a valid IP address")
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        raise Invalid(f"'{value}' is not a valid IP address") from None
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        raise Invalid(f"'{value}' is not a valid IP address")
    return address


def parse_cidr(value: Any, strict: bool = True) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Parse a CIDR; with `strict`, host bits set are refused with Neutron's hint."""
    if not isinstance(value, str) or "/" not in value:
        raise Invalid(f"'{value}' is not a valid IP subnet")
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
        ipaddress.ip_interface(value.strip())
    except ValueError:
        raise Invalid(f"'{value}' is not a valid IP subnet") from None
    if (
        strict
        and str(network.network_address) != value.split("/")[0].strip()
        and (ipaddress.ip_address(value.split("/")[0].strip()) != network.network_address)
    ):
        raise Invalid(f"'{value}' isn't a recognized IP subnet cidr, '{network}' is recommended")
    return network


_MAC_RE = re.compile(r"^([0-9a-fA-F]{2})([:-][0-9a-fA-F]{2}){5}$")


def normalize_mac(value: Any) -> str:
    """Return a unicast, non-zero MAC as lower-case colon-separated text, or raise Invalid."""
    if not isinstance(value, str) or not _MAC_RE.match(value.strip()):
        raise Invalid(f"'{value}' is not a valid MAC address")
    mac = value.strip().lower().replace("-", ":")
    if mac == "00:00:00:00:00:00" or int(mac[:2], 16) & 1:
        raise Invalid(f"'{value}' is not a valid MAC address")
    return mac


def mac_is_valid(value: str) -> bool:
    """Return True for a syntactically valid MAC (any cast)."""
    return bool(netaddr.valid_mac(value))
