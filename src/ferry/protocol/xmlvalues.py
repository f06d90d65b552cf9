"""Typed values of request documents: booleans and integers, with the error OSS gives."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ferry.core.errors import OssError
from ferry.protocol.xmlcodec import text_of


def bool_value(text: str, name: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise OssError("MalformedXML", f"{name} must be true or false.")
    return lowered == "true"


def bool_of(parent: ET.Element | None, name: str) -> bool | None:
    text = text_of(parent, name)
    return None if text is None else bool_value(text, name)


def int_value(text: str, name: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise OssError(
            "InvalidArgument", f"{name} must be an integer.", ArgumentName=name, ArgumentValue=text
        ) from None


def int_of(parent: ET.Element | None, name: str) -> int | None:
    text = text_of(parent, name)
    return None if text is None or text == "" else int_value(text, name)


def required(parent: ET.Element | None, name: str, *, strip: bool = True) -> str:
    text = text_of(parent, name, strip=strip)
    if text is None:
        where = parent.tag if parent is not None else "the document"
        raise OssError("MalformedXML", f"{where} needs {name}.")
    return text
