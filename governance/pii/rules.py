"""Detection rules from classifications/*.yaml, compiled for the engines and for the final check in Python.

A rule's patterns are Python regular expressions (that is what `validate` checks). Engines speak other
dialects: DuckDB has RE2 (no lookaround), PostgreSQL has POSIX AREs, Spark has Java regexes. So each data
pattern gets a *pushdown* form that every engine runs the same way: lookarounds and word-boundary
assertions are dropped (which only widens what matches), named groups become plain groups, and a
leading `(?i)` becomes the engine's case-insensitive match. The engine counts and pre-filters with it;
the exact Python pattern and the rule's validator then confirm the candidates. When nothing was widened
and the rule has no validator, the engine's counts are final and no value is fetched at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from governance.errors import InputError, Problem
from governance.pii.validators import VALIDATORS, Validator
from governance.specs.classifications import Rule

_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class Pushdown:
    pattern: str  # portable regex (RE2 / POSIX ARE / Java common ground)
    case_insensitive: bool
    exact: bool  # True when it matches exactly what the Python pattern matches


def _group_end(pattern: str, start: int) -> int:
    """Index just past the group opened at `start` (escapes and character classes respected)."""
    depth, i, in_class = 0, start, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]" or pattern[i - 1] == "["
        elif ch == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "^":
                i += 1
            if pattern[i + 1 : i + 2] == "]":
                i += 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced parentheses")


def pushdown(pattern: str) -> Pushdown:
    """The portable, possibly wider form of a Python pattern (see the module docstring)."""
    out: list[str] = []
    exact, ci = True, False
    text = pattern
    lead = re.match(r"^\(\?([aiLmsux]+)\)", text)
    if lead:
        flags = set(lead.group(1))
        ci = "i" in flags
        if flags - {"i"}:
            exact = False
        text = text[lead.end() :]
    i, in_class = 0, False
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            pair = text[i : i + 2]
            if not in_class and pair in ("\\b", "\\B"):
                exact = False
            elif not in_class and pair == "\\A":
                out.append("^")
            elif not in_class and pair == "\\Z":
                out.append("$")
            else:
                out.append(pair)
            i += 2
            continue
        if in_class:
            out.append(ch)
            if ch == "]" and text[i - 1] not in "[^":
                in_class = False
            i += 1
            continue
        if ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            for lead_ch in ("^", "]"):
                if text[i : i + 1] == lead_ch:
                    out.append(lead_ch)
                    i += 1
            continue
        if text.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
            i = _group_end(text, i)
            exact = False
            continue
        if text.startswith("(?P<", i):
            i = text.index(">", i) + 1
            out.append("(")
            continue
        if text.startswith("(?i)", i) or text.startswith("(?", i) and re.match(r"\(\?[aiLmsux]+\)", text[i:]):
            m = re.match(r"\(\?[aiLmsux]+\)", text[i:])
            assert m is not None
            ci, exact = True, False
            i += m.end()
            continue
        out.append(ch)
        i += 1
    return Pushdown("".join(out), ci, exact)


def unanchored(pattern: str) -> str:
    """The pattern without `^`/`$` anchors, so it also finds a value inside longer text."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "]" and pattern[i - 1] not in "[^":
                in_class = False
        elif ch == "[":
            in_class = True
            out.append(ch)
            if pattern[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            i += 1
            continue
        elif ch in "^$":
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class DetectionRule:
    """A rule ready to run: its regexes compiled, its validator resolved, its pushdown forms computed."""

    rule: Rule

    @property
    def name(self) -> str:
        return self.rule.name

    @property
    def label(self) -> str:
        return self.rule.label

    @cached_property
    def column_regex(self) -> re.Pattern[str] | None:
        return re.compile(self.rule.column_pattern) if self.rule.column_pattern else None

    @cached_property
    def data_regex(self) -> re.Pattern[str] | None:
        return re.compile(self.rule.data_pattern) if self.rule.data_pattern else None

    @cached_property
    def text_regex(self) -> re.Pattern[str] | None:
        """The unanchored pattern that finds the data inside free text (free_text rules only)."""
        if not (self.rule.free_text and self.rule.data_pattern):
            return None
        return re.compile(unanchored(self.rule.data_pattern))

    @cached_property
    def validator(self) -> Validator | None:
        return VALIDATORS[self.rule.validator] if self.rule.validator else None

    @cached_property
    def value_pushdown(self) -> Pushdown:
        """Whole-value match on the engine: the pattern must cover the entire (trimmed) value."""
        assert self.rule.data_pattern is not None
        p = pushdown(self.rule.data_pattern)
        return Pushdown(f"^(?:{p.pattern})$", p.case_insensitive, p.exact)

    @cached_property
    def text_pushdown(self) -> Pushdown:
        assert self.rule.data_pattern is not None
        p = pushdown(unanchored(self.rule.data_pattern))
        return Pushdown(p.pattern, p.case_insensitive, p.exact)

    @property
    def needs_candidates(self) -> bool:
        """Whether values must be confirmed in Python (a validator, or a pattern the engine widened)."""
        if self.validator is not None:
            return True
        return not self.value_pushdown.exact or (self.text_regex is not None and not self.text_pushdown.exact)

    def applies_to(self, layer: str) -> bool:
        return layer in self.rule.layers

    def name_matches(self, column: str) -> bool:
        return bool(self.column_regex and self.column_regex.search(column))

    def value_match(self, value: str) -> bool:
        """The whole value is this kind of data (pattern covers it and the validator agrees)."""
        if self.data_regex is None:
            return False
        text = value.strip()
        if not self.data_regex.fullmatch(text):
            return False
        return self.validator is None or self.validator.check(text)

    def text_match(self, value: str) -> bool:
        """Inside prose (two words or more besides the match) there is this kind of data (free-text rules).

        The prose condition keeps structured values (a grouped IBAN, a list of codes) from being read
        as text that happens to contain a phone number."""
        if self.text_regex is None:
            return False
        for m in self.text_regex.finditer(value):
            if self.validator is None or self.validator.check(m.group(0)):
                rest = value[: m.start()] + " " + value[m.end() :]
                if len(_WORD.findall(rest)) >= 2:
                    return True
        return False


def compile_rules(rules: list[Rule], where: object = None) -> list[DetectionRule]:
    """Compile every rule; an unknown validator or a pattern no engine could run is a bad input."""
    problems: list[Problem] = []
    out: list[DetectionRule] = []
    for rule in rules:
        if rule.validator and rule.validator not in VALIDATORS:
            known = ", ".join(sorted(VALIDATORS))
            problems.append(
                Problem(rule.where, f"rule {rule.name}: unknown validator '{rule.validator}' ({known})")
            )
            continue
        dr = DetectionRule(rule)
        if rule.data_pattern:
            try:
                re.compile(dr.value_pushdown.pattern)
                re.compile(dr.text_pushdown.pattern)
            except (re.error, ValueError) as exc:
                problems.append(
                    Problem(rule.where, f"rule {rule.name}: data_pattern cannot be pushed down: {exc}")
                )
                continue
        out.append(dr)
    if problems:
        raise InputError(problems)
    return out
