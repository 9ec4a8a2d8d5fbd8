"""PII detection and redaction: e-mail addresses, phone numbers, card numbers, IBANs.

``default.detectPII`` fails when the text contains PII of the listed ``categories`` (default:
all four). With ``redact: true`` (or used as a mutator) it rewrites the text, replacing each
finding by ``[REDACTED_<CATEGORY>]``. Card numbers must pass the Luhn checksum and IBANs the
ISO 13616 mod-97 check, so order numbers and dates are not mistaken for them.

Streaming: :class:`StreamRedactor` redacts a streamed answer chunk by chunk without ever splitting
a match: it holds back the last :data:`HOLD_CHARS` characters (longer than any match) until more
text or the end arrives, so a card number cut across two chunks is still caught.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .context import CheckContext
from .registry import CheckDef, CheckOutcome, ParameterError, Params, param

__all__ = ["CATEGORIES", "HOLD_CHARS", "PII_CHECKS", "StreamRedactor", "find_pii", "redact"]

CATEGORIES = ("email", "phone", "credit_card", "iban")
HOLD_CHARS = 96
"""Characters a stream redactor holds back: more than the longest match (an IBAN with spaces)."""

_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}"
)
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,5}){1,4}(?!\w)"
)


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _iban_ok(text: str) -> bool:
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rotated = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rotated)
    return int(number) % 97 == 1


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


_FINDERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iban", _IBAN),
    ("credit_card", _CARD),
    ("email", _EMAIL),
    ("phone", _PHONE),
)


def _valid(category: str, found: str) -> bool:
    if category == "iban":
        return _iban_ok(found)
    if category == "credit_card":
        digits = _digits(found)
        return 13 <= len(digits) <= 19 and _luhn(digits)
    if category == "phone":
        return 7 <= len(_digits(found)) <= 15
    return True


def find_pii(text: str, categories: Iterable[str] = CATEGORIES) -> list[tuple[int, int, str]]:
    """Non-overlapping ``(start, end, category)`` findings, in text order."""
    wanted = set(categories)
    spans: list[tuple[int, int, str]] = []
    for category, pattern in _FINDERS:
        if category not in wanted:
            continue
        for match in pattern.finditer(text):
            start, end = match.span()
            if _valid(category, match.group(0)) and not any(s < end and start < e for s, e, _ in spans):
                spans.append((start, end, category))
    return sorted(spans)


def redact(text: str, spans: list[tuple[int, int, str]]) -> str:
    """``text`` with each span replaced by ``[REDACTED_<CATEGORY>]``."""
    out, last = [], 0
    for start, end, category in spans:
        out.append(text[last:start])
        out.append(f"[REDACTED_{category.upper()}]")
        last = end
    out.append(text[last:])
    return "".join(out)


class StreamRedactor:
    """Redacts streamed text: ``feed`` returns what is safe to emit now, ``flush`` the rest."""

    def __init__(self, categories: Iterable[str] = CATEGORIES) -> None:
        self._categories = tuple(categories)
        self._pending = ""
        self.redacted = 0

    def feed(self, text: str) -> str:
        """Add ``text``; return the redacted text that no future chunk can change."""
        self._pending += text
        cut = len(self._pending) - HOLD_CHARS
        if cut <= 0:
            return ""
        spans = find_pii(self._pending, self._categories)
        for start, end, _ in spans:
            if start < cut < end:
                cut = start
        ready = [span for span in spans if span[1] <= cut]
        self.redacted += len(ready)
        out = redact(self._pending[:cut], ready)
        self._pending = self._pending[cut:]
        return out

    def flush(self) -> str:
        """The rest of the text, redacted (call at the end of the stream)."""
        spans = find_pii(self._pending, self._categories)
        self.redacted += len(spans)
        out, self._pending = redact(self._pending, spans), ""
        return out


def _prepare(params: Params) -> Params:
    param(params, "failOnError", "bool")
    param(params, "redact", "bool")
    categories = param(params, "categories", "list[str]", default=list(CATEGORIES))
    unknown = [category for category in categories if category not in CATEGORIES]
    if unknown or not categories:
        raise ParameterError(
            f"parameter 'categories' must list some of {', '.join(CATEGORIES)}; got {categories}"
        )
    return {**params, "_categories": tuple(categories)}


def detect_pii(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.detectPII``: no PII of ``categories`` in the text; ``redact: true`` rewrites it."""
    findings = [find_pii(part, params["_categories"]) for part in context.texts]
    counts: dict[str, int] = {}
    for spans in findings:
        for _, _, category in spans:
            counts[category] = counts.get(category, 0) + 1
    texts = None
    if counts and params.get("redact"):
        texts = [redact(part, spans) for part, spans in zip(context.texts, findings, strict=True)]
    return CheckOutcome(not counts, {"found": counts}, texts=texts)


def _stream_redactor(params: Params) -> StreamRedactor | None:
    return StreamRedactor(params["_categories"]) if params.get("redact") else None


PII_CHECKS = (CheckDef("default.detectPII", detect_pii, _prepare, streaming_redactor=_stream_redactor),)
