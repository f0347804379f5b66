"""Fill every field of a message, the same way for betterproto and for Google protobuf.

Both walkers derive each value from the field-number path, so two independently built
messages are equal exactly when both implementations agree on the schema.
"""

from __future__ import annotations

import dataclasses
import typing
import zlib
from typing import Any

import betterproto

REPEATS = 2  # elements per repeated field and entries per map


def _tag(path: tuple[int, ...]) -> str:
    return ".".join(map(str, path))


def _scalar(kind: str, path: tuple[int, ...]) -> Any:
    """Return a non-zero value of a proto scalar type for this field path."""
    crc = zlib.crc32(_tag(path).encode())
    if kind == "string":
        return f"v{_tag(path)}"
    if kind == "uint32":
        return crc % 4_000_000_000 + 1
    if kind == "uint64":
        return 2**40 + crc  # above 2^32 on purpose
    if kind == "bool":
        return True
    if kind == "int32":
        return -(crc % 1000) - 1  # negative on purpose: a 10-byte varint
    if kind == "bytes":
        return f"b{_tag(path)}".encode()
    raise AssertionError(f"unexpected scalar type {kind}")


def choose(group_members: list[str], name: str, choice: int) -> bool:
    """Tell whether `name` is the chosen member of its oneof."""
    return group_members.index(name) == choice % len(group_members)


# ---- betterproto ---------------------------------------------------------------------


def build_ours(
    cls: type[betterproto.Message], choice: int = 0, path: tuple[int, ...] = ()
) -> betterproto.Message:
    """Build a betterproto message with every field (one member per oneof) set."""
    info = cls._betterproto
    kwargs: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        meta = info.meta_by_field_name[field.name]
        if meta.group and not choose(_group_members(cls, meta.group), field.name, choice):
            continue
        p = (*path, meta.number)
        if meta.proto_type == "map":
            value_cls = info.cls_by_field[f"{field.name}.value"]
            kwargs[field.name] = {
                _scalar("string", (*p, i, 1)): build_ours(value_cls, choice, (*p, i, 2))
                for i in range(REPEATS)
            }
        elif typing.get_origin(field.type) is list:
            kwargs[field.name] = [
                _ours_single(cls, field.name, meta, (*p, i), choice) for i in range(REPEATS)
            ]
        else:
            kwargs[field.name] = _ours_single(cls, field.name, meta, p, choice)
    return cls(**kwargs)


def _group_members(cls: type[betterproto.Message], group: str) -> list[str]:
    return [
        f.name
        for f in dataclasses.fields(cls)
        if cls._betterproto.meta_by_field_name[f.name].group == group
    ]


def _ours_single(
    cls: type[betterproto.Message], name: str, meta: Any, path: tuple[int, ...], choice: int
) -> Any:
    if meta.proto_type == "message":
        return build_ours(cls._betterproto.cls_by_field[name], choice, path)
    if meta.proto_type == "enum":
        enum_cls = cls._betterproto.cls_by_field[name]
        return max(enum_cls)
    return _scalar(meta.proto_type, path)


# ---- Google protobuf -----------------------------------------------------------------

_KIND = {
    9: "string",
    13: "uint32",
    4: "uint64",
    8: "bool",
    12: "bytes",
    5: "int32",
}  # FieldDescriptor.TYPE_*


def fill_theirs(msg: Any, choice: int = 0, path: tuple[int, ...] = ()) -> Any:
    """Fill a Google protobuf message with every field (one member per oneof) set."""
    for fd in msg.DESCRIPTOR.fields:
        oneof = fd.containing_oneof
        if oneof is not None and not choose([f.name for f in oneof.fields], fd.name, choice):
            continue
        p = (*path, fd.number)
        target = getattr(msg, fd.name)
        if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
            for i in range(REPEATS):
                fill_theirs(target[_scalar("string", (*p, i, 1))], choice, (*p, i, 2))
        elif fd.is_repeated:
            for i in range(REPEATS):
                if fd.message_type is not None:
                    fill_theirs(target.add(), choice, (*p, i))
                else:
                    target.append(_theirs_scalar(fd, (*p, i)))
        elif fd.message_type is not None:
            fill_theirs(target, choice, p)
        else:
            setattr(msg, fd.name, _theirs_scalar(fd, p))
    return msg


def _theirs_scalar(fd: Any, path: tuple[int, ...]) -> Any:
    if fd.enum_type is not None:
        return max(v.number for v in fd.enum_type.values)
    return _scalar(_KIND[fd.type], path)


def google_messages(pb: Any) -> dict[str, Any]:
    """Map betterproto class names to the Google message classes (map entries excluded)."""
    found: dict[str, Any] = {}

    def walk(desc: Any, prefix: str, module: Any, cls: Any) -> None:
        name = prefix + betterproto.casing.pascal_case(desc.name)
        found[name] = cls
        for nested in desc.nested_types:
            if not nested.GetOptions().map_entry:
                walk(nested, name, module, getattr(cls, nested.name))

    for module in vars(pb).values():
        desc = getattr(module, "DESCRIPTOR", None)
        if desc is None or not hasattr(desc, "message_types_by_name"):
            continue
        for msg_desc in desc.message_types_by_name.values():
            walk(msg_desc, "", module, getattr(module, msg_desc.name))
    return found
