"""Strands content blocks -> OpenAI content parts: text, images, documents, cache marks.

The block-level half of the request codec (:mod:`._strands_codec`), split out to keep modules
small. It reads Strands' Bedrock-shaped blocks as plain mappings, so it needs no Strands import.
The policies it follows are documented in :mod:`._strands_codec`.
"""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Mapping
from typing import Any

from .errors import InvalidRequestError
from .messages import ContentPart

__all__ = [
    "cache_control",
    "content_parts",
    "drop_block",
    "dumps_field",
    "mark_cache_point",
    "plain_if_text",
    "text_field",
]

_DOCUMENT_MIME = {
    "pdf": "application/pdf",
    "csv": "text/csv",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
    "txt": "text/plain",
    "md": "text/markdown",
}


def plain_if_text(parts: list[ContentPart]) -> str | list[ContentPart]:
    """All-text content as one string: llama.cpp, vLLM and Ollama chat templates reject arrays."""
    if all(p["type"] == "text" and "cache_control" not in p for p in parts):
        return "\n".join(p["text"] for p in parts)
    return parts


def mark_cache_point(last: ContentPart | None, point: Any) -> None:
    """Give the part made by the block just before a cache point its ``cache_control``."""
    if last is not None:
        last["cache_control"] = cache_control(point)


def cache_control(point: Any) -> dict[str, Any]:
    """Anthropic-style ``cache_control`` for a Strands cache point."""
    control: dict[str, Any] = {"type": "ephemeral"}
    if isinstance(point, Mapping) and point.get("ttl"):
        control["ttl"] = point["ttl"]
    return control


def content_parts(block: Mapping[str, Any], path: str) -> list[ContentPart]:
    """Content parts for one text/media block; unsupported kinds are dropped with a warning."""
    if "text" in block:
        return [{"type": "text", "text": text_field(block["text"], f"{path}.text")}]
    if "image" in block:
        return _image_part(block["image"], f"{path}.image")
    if "document" in block:
        return _document_part(block["document"], f"{path}.document")
    if "citationsContent" in block:
        items = block["citationsContent"].get("content") or []
        return [{"type": "text", "text": item["text"]} for item in items if item.get("text")]
    if "guardContent" in block:
        text = (block["guardContent"].get("text") or {}).get("text")
        if text:
            return [{"type": "text", "text": text}]
        drop_block(path, "guardContent", "only guarded text is supported")
        return []
    kind = next(iter(block), "empty")
    drop_block(path, kind, "chat completions has no equivalent")
    return []


def _image_part(image: Mapping[str, Any], path: str) -> list[ContentPart]:
    """Build an ``image_url`` part with a base64 data URL; location sources cannot be sent."""
    source = image.get("source") or {}
    if "bytes" not in source:
        drop_block(path, "image", "only inline bytes can be sent, not a location source")
        return []
    fmt = str(image.get("format", "png"))  # Strands' formats (png, jpeg, gif, webp) are MIME subtypes
    url = _data_url(f"image/{fmt}", source["bytes"], f"{path}.source.bytes")
    return [{"type": "image_url", "image_url": {"url": url, "detail": "auto"}}]


def _document_part(document: Mapping[str, Any], path: str) -> list[ContentPart]:
    """Build a ``file`` part with a data URL and a file name that carries the extension."""
    source = document.get("source") or {}
    if "bytes" not in source:
        drop_block(path, "document", "only inline bytes can be sent, not a location source")
        return []
    fmt = str(document.get("format", "txt"))
    name = str(document.get("name") or "document")
    if not name.lower().endswith(f".{fmt}"):
        name = f"{name}.{fmt}"
    mime = _DOCUMENT_MIME.get(fmt, "application/octet-stream")
    data = _data_url(mime, source["bytes"], f"{path}.source.bytes")
    return [{"type": "file", "file": {"file_data": data, "filename": name}}]


def _data_url(mime: str, data: Any, path: str) -> str:
    if not isinstance(data, (bytes, bytearray)):
        raise InvalidRequestError(f"must be bytes, got {type(data).__name__}", path=path)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def dumps_field(value: Any, path: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError) as error:
        raise InvalidRequestError(f"is not JSON-serializable: {error}", path=path) from error


def text_field(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise InvalidRequestError(f"must be a string, got {type(value).__name__}", path=path)
    return value


def drop_block(path: str, kind: str, why: str) -> None:
    warnings.warn(f"{path}: {kind} block dropped ({why})", UserWarning, stacklevel=4)
