"""Every regular expression in crawlers/, nlp/, digests/, indexer/ and web/ is linear on hostile text.

Those stages run their patterns on what strangers wrote: pages, feeds,
JSON-LD, bylines, and the stored bodies the index cuts into highlights and
stories and the desk splits into paragraphs. A pattern such as ``<p\\b[^>]*>`` scans to the end of the
text from every ``<p`` that is never closed, so 300 KB of ``<p `` took 22 s
and a page under CRAWL_MAX_BYTES half an hour, stopping the whole crawl.

The patterns are collected from the source (every string literal given to
``re.compile``, ``re.search``, ``re.sub``…), so a new one is covered without
editing this test. Each runs (``finditer`` to the end; ``match`` for one
written as ``re.match(...)``) over 1 MB inputs built
from the pattern itself: each of its prefixes, repeated, without what would
complete it, as is and followed by a stray character. A linear pattern takes
milliseconds there, a quadratic one minutes. What is measured is the CPU time
of the child process that runs them (``time.process_time``), not the clock, so a
loaded, shared machine does not make a linear pattern look slow: a budget of
2 s of CPU per input fails only a real problem. The child is killed when one
input has not finished after a minute by the clock (a pattern that is not
linear never gets there on a megabyte), so a failure is reported, naming the
pattern and the input, without waiting for it to end.
"""

from __future__ import annotations

import ast
import multiprocessing
import re
import re._constants as sre_constants  # type: ignore[import-not-found]  # Python 3.11+
import re._parser as sre_parse  # type: ignore[import-not-found]
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("crawlers", "nlp", "digests", "indexer", "web")
RE_FUNCTIONS = {"compile", "search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer"}
FLAGS_POSITION = {
    "compile": 1,
    "search": 2,
    "match": 2,
    "fullmatch": 2,
    "findall": 2,
    "finditer": 2,
    "split": 3,
    "sub": 4,
    "subn": 4,
}
INPUT_SIZE = 1_000_000
BUDGET_SECONDS = 2.0  # of CPU per input, in the child
WALL_GUARD_SECONDS = 60.0  # by the clock: an input not done by then is not linear
MAX_INPUTS_PER_PATTERN = 64
STRAY = "\x01"
# Characters tried, in order, when a sample needs one character of a class.
CANDIDATES = " a1<>/-.'\"x#=:_Z\n\téé€\u00a0\u200b"


@dataclass(frozen=True)
class Pattern:
    where: str  # file:line
    source: str | bytes
    flags: int
    anchored: bool = False  # written as re.match(...)/re.fullmatch(...): tried at the start only

    def compiled(self) -> re.Pattern[Any]:
        return re.compile(self.source, self.flags)


def collect_patterns() -> tuple[list[Pattern], list[str]]:
    """(every literal pattern of the stages, the places a pattern is not a literal)."""
    patterns: list[Pattern] = []
    unreadable: list[str] = []
    for stage in STAGES:
        for path in sorted((ROOT / stage).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in RE_FUNCTIONS
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "re"
                ):
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                first = node.args[0] if node.args else None
                if not (isinstance(first, ast.Constant) and isinstance(first.value, str | bytes)):
                    unreadable.append(where)
                    continue
                anchored = node.func.attr in ("match", "fullmatch")
                patterns.append(Pattern(where, first.value, _flags(node), anchored))
    return patterns, unreadable


def _flags(call: ast.Call) -> int:
    expression = next((k.value for k in call.keywords if k.arg == "flags"), None)
    position = FLAGS_POSITION[call.func.attr]  # type: ignore[attr-defined]
    if expression is None and len(call.args) > position:
        expression = call.args[position]
    if expression is None:
        return 0
    return int(eval(compile(ast.Expression(expression), "<flags>", "eval"), {"re": re}))  # noqa: S307 - our own source


# --- samples: a short string matching a piece of a pattern -------------------

_CATEGORY_CHARS = {
    sre_constants.CATEGORY_DIGIT: "1",
    sre_constants.CATEGORY_NOT_DIGIT: "a",
    sre_constants.CATEGORY_SPACE: " ",
    sre_constants.CATEGORY_NOT_SPACE: "a",
    sre_constants.CATEGORY_WORD: "a",
    sre_constants.CATEGORY_NOT_WORD: " ",
}


def _in_class(char: str, items: list[tuple[Any, Any]]) -> bool:
    negate = False
    found = False
    for op, av in items:
        if op is sre_constants.NEGATE:
            negate = True
        elif op is sre_constants.LITERAL:
            found = found or ord(char) == av
        elif op is sre_constants.RANGE:
            found = found or av[0] <= ord(char) <= av[1]
        elif op is sre_constants.CATEGORY:
            found = found or bool(re.fullmatch(_category_regex(av), char))
    return found != negate


def _category_regex(category: Any) -> str:
    return {
        sre_constants.CATEGORY_DIGIT: r"\d",
        sre_constants.CATEGORY_NOT_DIGIT: r"\D",
        sre_constants.CATEGORY_SPACE: r"\s",
        sre_constants.CATEGORY_NOT_SPACE: r"\S",
        sre_constants.CATEGORY_WORD: r"\w",
        sre_constants.CATEGORY_NOT_WORD: r"\W",
    }.get(category, r"[^\s\S]")


def _first_member(items: list[tuple[Any, Any]]) -> str:
    """The first character a (non-negated) class names, for classes none of CANDIDATES is in."""
    for op, av in items:
        if op is sre_constants.LITERAL:
            return chr(av)
        if op is sre_constants.RANGE:
            return chr(av[0])
    return ""


def sample(items: Any) -> str:
    """A short string that the pattern items match (assertions and anchors ignored)."""
    out = []
    for op, av in items:
        if op is sre_constants.LITERAL:
            out.append(chr(av))
        elif op is sre_constants.NOT_LITERAL:
            out.append(next(c for c in CANDIDATES if ord(c) != av))
        elif op is sre_constants.ANY:
            out.append("a")
        elif op is sre_constants.IN:
            out.append(next((c for c in CANDIDATES if _in_class(c, av)), None) or _first_member(av))
        elif op is sre_constants.CATEGORY:
            out.append(_CATEGORY_CHARS.get(av, "a"))
        elif op is sre_constants.BRANCH:
            out.append(sample(av[1][0]))
        elif op is sre_constants.SUBPATTERN:
            out.append(sample(av[3]))
        elif op is getattr(sre_constants, "ATOMIC_GROUP", None):
            out.append(sample(av))
        elif op in (
            sre_constants.MAX_REPEAT,
            sre_constants.MIN_REPEAT,
            getattr(sre_constants, "POSSESSIVE_REPEAT", None),
        ):
            out.append(sample(av[2]) * max(av[0], 1))
    return "".join(out)


def _sequences(items: Any) -> Iterator[list[Any]]:
    """The pattern's top-level sequence, once per alternative of a leading or whole-pattern branch."""
    items = list(items)
    if len(items) == 1 and items[0][0] is sre_constants.SUBPATTERN:
        items = list(items[0][1][3])
    if len(items) == 1 and items[0][0] is sre_constants.BRANCH:
        for alternative in items[0][1][1]:
            yield from _sequences(alternative)
        return
    if items and items[0][0] is sre_constants.BRANCH:
        for alternative in items[0][1][1]:
            yield [*alternative, *items[1:]]
        return
    yield items


def adversarial_inputs(pattern: Pattern) -> list[tuple[str, str | bytes]]:
    """(description, 1 MB input) pairs: each prefix of the pattern repeated, unfinished."""
    parsed = sre_parse.parse(
        pattern.source.decode("latin-1") if isinstance(pattern.source, bytes) else pattern.source,
        pattern.flags & ~re.LOCALE,
    )
    prefixes: list[str] = []
    for sequence in _sequences(parsed):
        for cut in range(1, len(sequence)):
            literal_run = (
                sequence[cut - 1][0] is sre_constants.LITERAL and sequence[cut][0] is sre_constants.LITERAL
            )
            if literal_run and cut != len(sequence) - 1:
                continue  # inside a run of literals: nothing to scan for
            prefix = sample(sequence[:cut])
            if prefix and prefix not in prefixes:
                prefixes.append(prefix)
        whole = sample(sequence)
        if whole and whole not in prefixes:
            prefixes.append(whole)
    cases: list[tuple[str, str | bytes]] = []
    for prefix in prefixes:
        repeated = (prefix * (INPUT_SIZE // len(prefix) + 1))[:INPUT_SIZE]
        for text, label in ((repeated, ""), (repeated[:-1] + STRAY, " then a stray character")):
            value: str | bytes = text.encode("utf-8") if isinstance(pattern.source, bytes) else text
            cases.append((f"{prefix!r} repeated to 1 MB{label}", value))
    return cases[:MAX_INPUTS_PER_PATTERN]


# --- the run -------------------------------------------------------------------


def _run_all(connection: Any) -> None:
    """In the child: run every case, and send each one's time as soon as it is done."""
    patterns, _ = collect_patterns()
    for pattern in patterns:
        compiled = pattern.compiled()
        for _, text in adversarial_inputs(pattern):
            started = time.process_time()
            if pattern.anchored:
                compiled.match(text)
            else:  # a compiled pattern may be searched, split, substituted: scan the whole text
                for _ in compiled.finditer(text):
                    pass
            connection.send(time.process_time() - started)
    connection.close()


def test_every_pattern_of_the_stages_is_a_literal_this_test_can_read() -> None:
    patterns, unreadable = collect_patterns()
    assert not unreadable, (
        f"patterns built at run time cannot be checked here; write them as literals: {unreadable}"
    )
    assert len(patterns) > 30  # the collection works (crawlers/ alone has more)
    assert any(p.where.startswith("crawlers/_text.py") and "(p|br|div" in str(p.source) for p in patterns)
    assert {p.where.split("/")[0] for p in patterns} == set(STAGES)  # each stage's patterns are read


def test_every_pattern_stays_linear_on_adversarial_megabytes() -> None:
    patterns, _ = collect_patterns()
    cases = [(p, description) for p in patterns for description, _ in adversarial_inputs(p)]
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_run_all, args=(sender,), daemon=True)
    child.start()
    sender.close()
    slow: list[str] = []
    try:
        for index, (pattern, description) in enumerate(cases):
            # The first answer also waits for the child to start and build its first input.
            guard = WALL_GUARD_SECONDS + (30.0 if index == 0 else 0.0)
            if not receiver.poll(guard):
                pytest.fail(
                    f"{pattern.where} {pattern.source!r} did not finish {description} within "
                    f"{WALL_GUARD_SECONDS:g} s: it is not linear (bound its repeats, e.g. [^<>]* instead of [^>]*)"
                )
            seconds = receiver.recv()
            if seconds > BUDGET_SECONDS:
                slow.append(f"{pattern.where} {pattern.source!r} on {description}: {seconds:.1f} s of CPU")
    finally:
        child.kill()
        child.join()
    assert not slow, "\n".join(slow)
