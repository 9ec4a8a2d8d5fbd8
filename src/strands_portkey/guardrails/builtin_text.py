"""Built-in text checks, following Portkey's ``default.*`` plugins (same parameters, same verdicts).

Every check reads the text under check (:attr:`CheckContext.text`) and honours ``not: true``
(invert the verdict). A check that cannot run (no text to analyse) raises; the runner records
the error and, as in Portkey, the check then counts as a pass unless its parameters say
``failOnError: true``.
"""

from __future__ import annotations

import re
from typing import Any

from .context import CheckContext
from .registry import CheckDef, CheckOutcome, ParameterError, Params, param

__all__ = ["TEXT_CHECKS"]

_OPERATORS = ("any", "all", "none")


def _text(context: CheckContext, what: str = "text to analyze") -> str:
    text = context.text
    if not text:
        raise ValueError(f"Missing {what}")
    return text


def _flip(params: Params, value: bool) -> bool:
    return not value if params.get("not") else value


def _common(params: Params) -> None:
    param(params, "not", "bool")
    param(params, "failOnError", "bool")


def _operator(params: Params, required: bool = True) -> str:
    operator = param(params, "operator", "str", required=required, default="any")
    if operator not in _OPERATORS:
        raise ParameterError(f"parameter 'operator' must be one of any, all, none; got {operator!r}")
    return str(operator)


# ----------------------------------------------------------------- regexMatch


def _prepare_regex(params: Params) -> Params:
    _common(params)
    rule = param(params, "rule", "str", required=True)
    try:
        compiled = re.compile(rule)
    except re.error as error:
        raise ParameterError(f"parameter 'rule' is not a valid regular expression: {error}") from None
    return {**params, "_regex": compiled}


def regex_match(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.regexMatch``: the pattern ``rule`` is found in the text."""
    text = _text(context, "text to match")
    match = params["_regex"].search(text)
    verdict = _flip(params, match is not None)
    return CheckOutcome(
        verdict, {"regexPattern": params["rule"], "matched": match.group(0) if match else None}
    )


# ----------------------------------------------------------------- contains


def _prepare_contains(params: Params) -> Params:
    _common(params)
    param(params, "words", "list[str]", required=True)
    _operator(params)
    return params


def contains(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.contains``: ``any`` / ``all`` / ``none`` of ``words`` occur (case-sensitive)."""
    text = context.text
    words: list[str] = params["words"]
    found = [word for word in words if word in text]
    missing = [word for word in words if word not in text]
    operator = params["operator"]
    verdict = bool(found) if operator == "any" else not missing if operator == "all" else not found
    return CheckOutcome(verdict, {"operator": operator, "foundWords": found, "missingWords": missing})


# ----------------------------------------------------------------- counts


def _prepare_range(low: str, high: str, kind: str) -> Any:
    def prepare(params: Params) -> Params:
        _common(params)
        param(params, low, kind, required=True)
        param(params, high, kind, required=True)
        if params[low] > params[high]:
            raise ParameterError(
                f"parameter '{low}' ({params[low]}) is greater than '{high}' ({params[high]})"
            )
        return params

    return prepare


def word_count(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.wordCount``: the number of whitespace-separated words is in [minWords, maxWords]."""
    text = _text(context).strip()
    if not text:
        raise ValueError("Missing text to analyze")
    count = len(re.split(r"\s+", text))
    inside = params["minWords"] <= count <= params["maxWords"]
    return CheckOutcome(_flip(params, inside), {"wordCount": count})


def sentence_count(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.sentenceCount``: the number of ``.``, ``!``, ``?`` is in [minSentences, maxSentences]."""
    count = len(re.findall(r"[.!?]", context.text))
    inside = params["minSentences"] <= count <= params["maxSentences"]
    return CheckOutcome(_flip(params, inside), {"sentenceCount": count})


def character_count(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.characterCount``: the text's length is in [minCharacters, maxCharacters]."""
    count = len(_text(context))
    inside = params["minCharacters"] <= count <= params["maxCharacters"]
    return CheckOutcome(_flip(params, inside), {"characterCount": count})


# ----------------------------------------------------------------- shape of the text


def _prepare_suffix(params: Params) -> Params:
    _common(params)
    suffix = param(params, "suffix", "str", required=True)
    if not suffix:
        raise ParameterError("parameter 'suffix' must not be empty")
    return params


def ends_with(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.endsWith``: the text ends with ``suffix`` (a trailing period is allowed)."""
    text = _text(context)
    suffix = params["suffix"]
    return CheckOutcome(
        _flip(params, text.endswith(suffix) or text.endswith(suffix + ".")), {"suffix": suffix}
    )


def _prepare_plain(params: Params) -> Params:
    _common(params)
    return params


_NON_LETTERS = re.compile(r"[^a-zA-Z]")


def all_uppercase(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.alluppercase``: every ASCII letter is upper case."""
    letters = _NON_LETTERS.sub("", _text(context))
    return CheckOutcome(_flip(params, letters == letters.upper()))


def all_lowercase(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.alllowercase``: every ASCII letter is lower case."""
    letters = _NON_LETTERS.sub("", _text(context))
    return CheckOutcome(_flip(params, letters == letters.lower()))


def not_null(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.notNull``: the content is present and not blank."""
    empty = all(not part or not part.strip() for part in context.texts)
    return CheckOutcome(_flip(params, not empty), {"isNull": empty})


_CODE_BLOCK = re.compile(r"```(\w+)\n[\s\S]*?\n```")
_LANGUAGES = {
    "sql": "SQL", "py": "Python", "python": "Python", "gyp": "Python", "ts": "TypeScript",
    "tsx": "TypeScript", "typescript": "TypeScript", "js": "JavaScript", "jsx": "JavaScript",
    "javascript": "JavaScript", "java": "Java", "cs": "C#", "cpp": "C++", "c": "C", "rb": "Ruby",
    "php": "PHP", "swift": "Swift", "kt": "Kotlin", "go": "Go", "rs": "Rust", "scala": "Scala",
    "r": "R", "pl": "Perl", "sh": "Shell", "html": "HTML", "css": "CSS", "xml": "XML", "json": "JSON",
    "yml": "YAML", "md": "Markdown", "dockerfile": "Dockerfile",
}  # fmt: skip


def _prepare_code(params: Params) -> Params:
    _common(params)
    param(params, "format", "str", required=True)
    return params


def contains_code(context: CheckContext, params: Params) -> CheckOutcome:
    """``default.containsCode``: a fenced code block in ``format`` (``SQL``, ``Python``...) is present."""
    text = _text(context, "text content to analyze")
    found = [_LANGUAGES.get(tag.lower(), tag.lower()) for tag in _CODE_BLOCK.findall(text)]
    return CheckOutcome(_flip(params, params["format"] in found), {"foundFormats": found})


TEXT_CHECKS = (
    CheckDef("default.regexMatch", regex_match, _prepare_regex),
    CheckDef("default.contains", contains, _prepare_contains),
    CheckDef("default.wordCount", word_count, _prepare_range("minWords", "maxWords", "int")),
    CheckDef(
        "default.sentenceCount", sentence_count, _prepare_range("minSentences", "maxSentences", "number")
    ),
    CheckDef(
        "default.characterCount", character_count, _prepare_range("minCharacters", "maxCharacters", "int")
    ),
    CheckDef("default.endsWith", ends_with, _prepare_suffix),
    CheckDef("default.alluppercase", all_uppercase, _prepare_plain),
    CheckDef("default.alllowercase", all_lowercase, _prepare_plain),
    CheckDef("default.notNull", not_null, _prepare_plain),
    CheckDef("default.containsCode", contains_code, _prepare_code),
)
