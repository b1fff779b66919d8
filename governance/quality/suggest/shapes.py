"""String shapes: a value with its letters and digits replaced by class symbols.

The fine shape keeps lengths (`P-00042` → `A-99999`), the coarse one collapses runs (`jo.doe7@x.org` →
`a.a9@a.a`). Shapes are computed by the engine (regexp_replace) and only shapes leave it, so a pattern
suggested for a PII column reveals its format, never a value.
"""

from __future__ import annotations

from sqlglot import exp

_SPECIAL = set(".^$*+?()[]{}|\\/")
_PRINTABLE = {chr(c) for c in range(0x20, 0x7F)}


def _replace(value: exp.Expr, pattern: str, symbol: str) -> exp.Expr:
    return exp.RegexpReplace(
        this=value,
        expression=exp.Literal.string(pattern),
        replacement=exp.Literal.string(symbol),
        modifiers=exp.Literal.string("g"),
    )


def fine(value: exp.Expr) -> exp.Expr:
    return _replace(_replace(_replace(value, "[A-Z]", "A"), "[a-z]", "a"), "[0-9]", "9")


def coarse(value: exp.Expr) -> exp.Expr:
    return _replace(_replace(value, "[A-Za-z]+", "a"), "[0-9]+", "9")


_FINE = {"A": "[A-Z]", "a": "[a-z]", "9": "[0-9]"}
_COARSE = {"a": "[A-Za-z]+", "9": "[0-9]+"}


def _literal(ch: str) -> str:
    return "\\" + ch if ch in _SPECIAL else ch


def regex(shape: str, is_fine: bool) -> str | None:
    """The anchored regex that a shape stands for; None if the shape holds anything but printable ASCII
    (such a character would be a piece of a value)."""
    if not shape or any(ch not in _PRINTABLE for ch in shape):
        return None
    out: list[str] = []
    i = 0
    while i < len(shape):
        ch = shape[i]
        j = i
        while j < len(shape) and shape[j] == ch:
            j += 1
        run = j - i
        if is_fine and ch in _FINE:
            out.append(_FINE[ch] + (f"{{{run}}}" if run > 1 else ""))
        elif not is_fine and ch in _COARSE:
            out.append(_COARSE[ch])  # runs never repeat in a coarse shape
            run = 1
            j = i + 1
        else:
            out.append(_literal(ch) * run)
        i = j
    return "".join(out)


def alternation(shapes: list[str], is_fine: bool) -> str | None:
    parts = [regex(s, is_fine) for s in sorted(set(shapes))]
    if not parts or any(p is None for p in parts):
        return None
    body = parts[0] if len(parts) == 1 else "(" + "|".join(str(p) for p in parts) + ")"
    return f"^{body}$"
