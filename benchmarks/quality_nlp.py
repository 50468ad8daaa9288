"""Watched-entity tagging on real texts: regwatch against a naive exact-alias matcher, same run.

Run with ``make quality-nlp`` (or ``.venv/bin/python benchmarks/quality_nlp.py --help``).

The texts are the labelled excerpts of ``benchmarks/data/nlp_real_labels.jsonl``
(real public texts nobody on the team wrote, about 40% of them hard negatives:
see :mod:`nlp_corpus` for the format and how the texts are rebuilt from their
public repositories). Each excerpt is tagged by

* **regwatch**: ``Tagger.analyse`` with the default watchlist and model, dated
  by the excerpt's publication day when known;
* **naive**: every name and alias of the watchlist matched case-sensitively as
  a whole word (``(?<!\\w)alias(?!\\w)``), the baseline a keyword alert would be.

Scoring is document level on watchlist ids: a true positive is an entity the
excerpt mentions and the system reports, a false positive one it reports and
the excerpt does not mention, a false negative one the excerpt mentions and the
system misses. Printed per split (dev, test; fixed by the excerpt's hash) and
overall: precision, recall and F1 of both systems; then, for the chosen split,
per entity counts of both, and every regwatch error with the mentions behind it.

Exit status: 0, or 1 with ``--fail-under P,R`` when regwatch's test precision
or recall is below those figures.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.nlp_corpus import Excerpt, load_labels, rebuild, repo_dir, sources  # noqa: E402

if TYPE_CHECKING:
    from nlp import WatchlistEntry

CORPUS_ENV = "REGWATCH_NLP_CORPUS"


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: frozenset[str], found: frozenset[str]) -> None:
        self.tp += len(gold & found)
        self.fp += len(found - gold)
        self.fn += len(gold - found)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def row(self) -> str:
        return (
            f"P {self.precision:.3f}  R {self.recall:.3f}  F1 {self.f1:.3f}"
            f"   (tp {self.tp:3d}  fp {self.fp:3d}  fn {self.fn:3d})"
        )


@dataclass
class Result:
    """What one system found in one excerpt: ids, and the surface forms per id."""

    found: frozenset[str]
    mentions: dict[str, list[str]] = field(default_factory=dict)


class NaiveMatcher:
    """Case-sensitive whole-word matching of every watchlist name and alias."""

    def __init__(self, watchlist: Iterable[WatchlistEntry]) -> None:
        self.patterns: list[tuple[str, re.Pattern[str]]] = []
        for entry in watchlist:
            for form in entry.surface_forms:
                self.patterns.append((entry.id, re.compile(r"(?<!\w)" + re.escape(form) + r"(?!\w)")))

    def __call__(self, text: str) -> Result:
        mentions: dict[str, list[str]] = {}
        for entity_id, pattern in self.patterns:
            for match in pattern.finditer(text):
                mentions.setdefault(entity_id, []).append(match.group(0))
        return Result(frozenset(mentions), mentions)


def regwatch_results(excerpts: Sequence[Excerpt]) -> list[Result]:
    from nlp import Tagger, load_watchlist

    tagger = Tagger(load_watchlist()).load()
    results = []
    for excerpt in excerpts:
        day = date.fromisoformat(excerpt.date) if excerpt.date else None
        entities = tagger.analyse("", excerpt.text, published=day, language="en").entities
        watched = {e.entity_id: list(e.mentions) for e in entities if e.entity_id}
        results.append(Result(frozenset(watched), watched))
    return results


def context(text: str, needle: str, width: int = 70) -> str:
    """One line of ``text`` around the first ``needle`` (whole word when possible)."""
    match = re.search(r"(?<!\w)" + re.escape(needle) + r"(?!\w)", text) or re.search(re.escape(needle), text)
    if not match:
        return ""
    start, end = max(0, match.start() - width), min(len(text), match.end() + width)
    return " ".join(text[start:end].split())


def report(
    excerpts: Sequence[Excerpt], systems: dict[str, list[Result]], detail_split: str, errors_of: str
) -> dict[str, dict[str, Counts]]:
    splits: dict[str, list[int]] = {"dev": [], "test": [], "all": []}
    for n, excerpt in enumerate(excerpts):
        splits[excerpt.split].append(n)
        splits["all"].append(n)
    totals: dict[str, dict[str, Counts]] = {}
    negatives = sum(1 for e in excerpts if e.hard_negative)
    print(
        f"excerpts: {len(excerpts)} ({len(splits['dev'])} dev, {len(splits['test'])} test), "
        f"{negatives} hard negatives, {len({e.repo for e in excerpts})} source repositories, "
        f"{sum(len(e.entities) for e in excerpts)} gold (excerpt, entity) pairs"
    )
    print()
    print(f"{'split':6} {'system':9} watched-entity precision / recall (document level)")
    for split, members in splits.items():
        totals[split] = {}
        if not members:
            continue
        for name, results in systems.items():
            counts = Counts()
            for n in members:
                counts.add(excerpts[n].entities, results[n].found)
            totals[split][name] = counts
            print(f"{split:6} {name:9} {counts.row()}")
    members = splits[detail_split]
    print()
    print(f"per entity, {detail_split} split: gold count, then tp/fp/fn of each system")
    ids = sorted(
        {i for n in members for i in excerpts[n].entities}
        | {i for r in systems.values() for n in members for i in r[n].found}
    )
    header = "  ".join(f"{name:>13}" for name in systems)
    print(f"{'entity':26} {'gold':>4}  {header}")
    for entity_id in ids:
        gold = sum(1 for n in members if entity_id in excerpts[n].entities)
        cells = []
        for results in systems.values():
            c = Counts()
            for n in members:
                c.add(excerpts[n].entities & {entity_id}, results[n].found & {entity_id})
            cells.append(f"{c.tp:>3}/{c.fp:>2}/{c.fn:>2}".rjust(13))
        print(f"{entity_id:26} {gold:>4}  {'  '.join(cells)}")
    results = systems[errors_of]
    print()
    print(f"{errors_of} errors, {detail_split} split:")
    kinds: Counter[str] = Counter()
    for n in members:
        excerpt, result = excerpts[n], results[n]
        for entity_id in sorted(result.found - excerpt.entities):
            kinds["false positive"] += 1
            surface = (result.mentions.get(entity_id) or [entity_id])[0]
            print(f"  FP {excerpt.id:10} {entity_id:22} {surface!r}: …{context(excerpt.text, surface)}…")
        for entity_id in sorted(excerpt.entities - result.found):
            kinds["false negative"] += 1
            print(f"  FN {excerpt.id:10} {entity_id:22} {excerpt.note}")
    if not kinds:
        print("  none")
    return totals


def clone_missing(excerpts: Sequence[Excerpt], root: Path) -> None:
    """``git clone`` from GitHub each repository missing under ``root`` (needs the network)."""
    root.mkdir(parents=True, exist_ok=True)
    for repo in sorted(sources(excerpts)):
        if repo_dir(root, repo) is not None:
            continue
        target = root / repo.replace("/", "+")
        print(f"cloning {repo} into {target}", flush=True)
        subprocess.run(
            ["git", "clone", "--bare", "--filter=blob:none", f"https://github.com/{repo}.git", str(target)],
            check=True,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--corpus",
        default=os.environ.get(CORPUS_ENV, ""),
        help=f"directory holding the source repositories (default: ${CORPUS_ENV})",
    )
    parser.add_argument(
        "--split", choices=("dev", "test", "all"), default="test", help="split detailed per entity"
    )
    parser.add_argument(
        "--only",
        choices=("dev", "test"),
        default="",
        help="score this split alone (tune with --only dev: the test figures stay unseen)",
    )
    parser.add_argument(
        "--errors-of", default="regwatch", choices=("regwatch", "naive"), help="whose errors to list"
    )
    parser.add_argument(
        "--labels", default="", help="label file (default: benchmarks/data/nlp_real_labels.jsonl)"
    )
    parser.add_argument(
        "--sources", action="store_true", help="list the repositories and commits needed, then exit"
    )
    parser.add_argument("--clone", action="store_true", help="clone missing repositories from GitHub first")
    parser.add_argument("--fail-under", default="", help="P,R: exit 1 when regwatch's test P or R is lower")
    args = parser.parse_args(argv)

    excerpts = load_labels(Path(args.labels)) if args.labels else load_labels()
    if args.only:
        excerpts = [e for e in excerpts if e.split == args.only]
        args.split = args.only
    if args.sources:
        for repo, commits in sorted(sources(excerpts).items()):
            print(repo, " ".join(sorted(commits)))
        return 0
    if not args.corpus:
        parser.error(f"say where the source repositories are: --corpus DIR or ${CORPUS_ENV} (see --sources)")
    root = Path(args.corpus)
    if args.clone:
        clone_missing(excerpts, root)
    rebuild(excerpts, root)
    broken = [e for e in excerpts if e.problems]
    for excerpt in broken:
        print(f"skipped {excerpt.id}: {excerpt.problems[0]}", file=sys.stderr)
    excerpts = [e for e in excerpts if not e.problems]
    if not excerpts:
        print("no excerpt could be rebuilt; see --sources", file=sys.stderr)
        return 2
    from nlp import load_watchlist

    naive = NaiveMatcher(load_watchlist())
    systems = {"regwatch": regwatch_results(excerpts), "naive": [naive(e.text) for e in excerpts]}
    totals = report(excerpts, systems, args.split, args.errors_of)
    if broken:
        print(f"\n{len(broken)} excerpts skipped (see stderr)")
    if args.fail_under:
        want_p, want_r = (float(x) for x in args.fail_under.split(","))
        if not totals["test"]:
            parser.error("--fail-under needs the test split (drop --only dev)")
        test = totals["test"]["regwatch"]
        if test.precision < want_p or test.recall < want_r:
            print(
                f"FAIL: regwatch test P {test.precision:.3f} / R {test.recall:.3f} below {want_p} / {want_r}"
            )
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
