"""Frozen dataclasses to JSON and back, driven by their type hints.

Bucket configurations are stored as JSON of their domain values; this codec
knows the few shapes they use: str, int, float, bool, enums, ``X | None``,
``tuple[X, ...]``, ``dict[str, str]`` and nested dataclasses.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from typing import Any, TypeVar

T = TypeVar("T")


def to_json(value: object) -> str:
    return json.dumps(_encode(value), sort_keys=True, ensure_ascii=False)


def from_json(cls: type[T], text: str) -> T:
    return typing.cast(T, _decode(cls, json.loads(text)))


def _encode(value: object) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


def _decode(hint: Any, raw: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if raw is None:
            return None
        (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode(inner, raw)
    if origin is tuple:
        (inner, _) = typing.get_args(hint)
        return tuple(_decode(inner, v) for v in raw)
    if origin is dict:
        _, inner = typing.get_args(hint)
        return {k: _decode(inner, v) for k, v in raw.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        kwargs = {
            f.name: _decode(hints[f.name], raw[f.name]) for f in dataclasses.fields(hint) if f.name in raw
        }
        return hint(**kwargs)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(raw)
    if hint is float and isinstance(raw, int):
        return float(raw)
    return raw
