"""Reading and writing the XML documents of the OSS API.

Documents are built as element trees (never from string templates) and parsed
with a size limit.  Lookups go by child name, never by position, because the
SDKs order children differently.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator

from ferry.core.errors import OssError

MAX_XML_BYTES = 1024 * 1024
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def parse(body: bytes, root: str | Iterable[str]) -> ET.Element:
    """Parse a request body whose root element must be ``root`` (or one of several names)."""
    if len(body) > MAX_XML_BYTES:
        raise OssError("MalformedXML", "The XML document is too large.")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise OssError("MalformedXML", "DTDs and entities are not accepted.")
    body, restore = _protect_controls(body)
    try:
        element = ET.fromstring(body)
    except (ET.ParseError, LookupError) as exc:  # LookupError: an unknown declared encoding
        raise OssError("MalformedXML", f"The XML you provided was not well-formed: {exc}.") from None
    if restore:
        _restore_controls(element)
    names = {root} if isinstance(root, str) else set(root)
    if _local(element.tag) not in names:
        raise OssError("MalformedXML", f"The root element must be {' or '.join(sorted(names))}.")
    _strip_namespaces(element)
    return element


_CONTROLS = re.compile(rb"[\x01-\x08\x0b\x0c\x0e-\x1f]")
_STAND_IN = 0xF0000
"""Control characters XML 1.0 forbids stand in as code points U+F0000 + c while parsing."""
_STAND_IN_PREFIX = chr(_STAND_IN).encode()[:3]


def _protect_controls(body: bytes) -> tuple[bytes, bool]:
    """OSS accepts object keys with control characters (form feed, ...) in request documents,
    as the SDKs send them unescaped; expat does not.  Swap them for private-use stand-ins."""
    if not _CONTROLS.search(body) or _STAND_IN_PREFIX in body:
        return body, False
    return _CONTROLS.sub(lambda m: chr(_STAND_IN + m.group()[0]).encode(), body), True


def _back(text: str) -> str:
    return "".join(chr(ord(c) - _STAND_IN) if _STAND_IN < ord(c) < _STAND_IN + 0x20 else c for c in text)


def _restore_controls(element: ET.Element) -> None:
    for node in element.iter():
        if node.text:
            node.text = _back(node.text)
        if node.tail:
            node.tail = _back(node.tail)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _strip_namespaces(element: ET.Element) -> None:
    for node in element.iter():
        node.tag = _local(node.tag)


def child(parent: ET.Element, name: str) -> ET.Element | None:
    return parent.find(name)


def children(parent: ET.Element, name: str) -> Iterator[ET.Element]:
    return iter(parent.findall(name))


def text_of(parent: ET.Element | None, name: str, *, strip: bool = True) -> str | None:
    """The text of the first child ``name``; '' for an empty element, None when absent.

    Pass ``strip=False`` for object keys and prefixes, where white space is data.
    """
    if parent is None:
        return None
    node = parent.find(name)
    if node is None:
        return None
    text = node.text or ""
    return text.strip() if strip else text


def texts_of(parent: ET.Element | None, name: str) -> list[str]:
    if parent is None:
        return []
    return [(node.text or "").strip() for node in parent.findall(name)]


# --- building ---------------------------------------------------------------


def element(tag: str, *kids: ET.Element | None, text: str | None = None) -> ET.Element:
    """An element with the given children; ``None`` children are skipped."""
    node = ET.Element(tag)
    if text is not None:
        node.text = text
    for kid in kids:
        if kid is not None:
            node.append(kid)
    return node


def leaf(tag: str, value: str | int | bool | None) -> ET.Element | None:
    """A text-only element, or None (skipped by :func:`element`) when value is None."""
    if value is None:
        return None
    if isinstance(value, bool):
        value = "true" if value else "false"
    node = ET.Element(tag)
    node.text = str(value)
    return node


def leaves(tag: str, values: Iterable[str]) -> list[ET.Element]:
    out: list[ET.Element] = []
    for v in values:
        node = ET.Element(tag)
        node.text = v
        out.append(node)
    return out


def with_children(node: ET.Element, kids: Iterable[ET.Element | None]) -> ET.Element:
    for kid in kids:
        if kid is not None:
            node.append(kid)
    return node


def serialize(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return XML_DECLARATION + body
