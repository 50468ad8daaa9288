"""``python -m benchmarks.extraction CORPUS_DIR...``: regwatch's extraction against bare trafilatura.

Per corpus and split it prints body precision, recall and F1, title exact, published time
to the minute (to the day where the gold is a day) and authors F1 for regwatch and for bare
trafilatura, scored in the same run; ``--worst N`` adds the N pages where regwatch does
worst against trafilatura. The exit status is 1 when regwatch is below trafilatura on any
metric of any corpus and split scored (2 for a corpus that cannot be read).
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from .corpora import read_corpus
from .run import SIDES, PageScore, aggregate, losses, score_pages
from .splits import SPLITS, load_recorded, record, split_of

_SOURCES = {
    "readability": "https://github.com/mozilla/readability",
    "l3s-gn1": "https://github.com/geodrome/page-signal",
    "trafilatura-eval": "https://github.com/adbar/trafilatura",
    "mercury": "https://github.com/postlight/parser",
}


def _check_commit(name: str, directory: Path, recorded: dict[str, dict[str, Any]]) -> None:
    """Warn when a cloned corpus is not at the commit its split and the README's figures were measured on."""
    expected = recorded.get(name, {}).get("commit")
    if not expected or not (directory / ".git").exists():
        return
    try:
        head = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return
    if head != expected:
        print(  # noqa: T201 - a one-line warning for the user
            f"warning: {directory} is at {head[:12]}, the figures were measured at {expected[:12]}"
            f" (git -C {directory} checkout {expected})",
            file=sys.stderr,
        )


def _fmt(value: float | None, width: int = 6) -> str:
    return f"{value:{width}.3f}" if value is not None else f"{'-':>{width}}"


def table(groups: list[tuple[str, str, list[PageScore]]]) -> str:
    head = (
        f"{'corpus':<18} {'split':<5} {'pages':>5}  {'side':<11} {'body P':>6} {'body R':>6} {'body F1':>7}"
        f" {'empty':>5}  {'title':>6} {'time':>6} {'authors':>7}"
    )
    lines = [head, "-" * len(head)]
    for corpus, split, scores in groups:
        for side in SIDES:
            m = aggregate(scores, side)
            label = f"{corpus:<18} {split:<5} {m['pages']:>5}" if side == SIDES[0] else " " * 30
            lines.append(
                f"{label}  {side:<11} {_fmt(m['body_precision'])} {_fmt(m['body_recall'])} {_fmt(m['body_f1'], 7)}"
                f" {m['empty']:>5}  {_fmt(m['title'])} {_fmt(m['published'])} {_fmt(m['authors'], 7)}"
            )
        m = aggregate(scores, SIDES[0])
        snippets = " (body judged by snippets: P over text that must not be there, R over text that must)"
        lines.append(
            " " * 30
            + f"  gold on: title {m['title_pages']}, time {m['published_pages']}, authors {m['authors_pages']} pages"
            + (snippets if scores and scores[0].snippets and m["body_f1"] is not None else "")
        )
    return "\n".join(lines)


def worst(scores: list[PageScore], count: int) -> str:
    ranked = sorted(
        scores, key=lambda s: ((s.sides["regwatch"].f1 or 0) - (s.sides["trafilatura"].f1 or 0), s.id)
    )
    lines = [
        f"{'page':<44} {'split':<5} {'ours P':>6} {'ours R':>6} {'ours F1':>7} {'traf P':>6} {'traf R':>6}"
        f" {'traf F1':>7}  metadata (ours / traf: T title, D time, A authors)"
    ]
    for s in ranked[:count]:
        ours, theirs = s.sides["regwatch"], s.sides["trafilatura"]

        def meta(x: object) -> str:
            parts = []
            if x.title_ok is not None:  # type: ignore[attr-defined]
                parts.append("T" if x.title_ok else "t")  # type: ignore[attr-defined]
            if x.published_ok is not None:  # type: ignore[attr-defined]
                parts.append("D" if x.published_ok else "d")  # type: ignore[attr-defined]
            if x.authors_f1 is not None:  # type: ignore[attr-defined]
                parts.append(f"A{x.authors_f1:.2f}")  # type: ignore[attr-defined]
            return " ".join(parts)

        lines.append(
            f"{(s.corpus + '/' + s.id)[:44]:<44} {s.split:<5} {_fmt(ours.precision)} {_fmt(ours.recall)} {_fmt(ours.f1, 7)}"
            f" {_fmt(theirs.precision)} {_fmt(theirs.recall)} {_fmt(theirs.f1, 7)}  {meta(ours)} / {meta(theirs)}"
            + (f"  [{ours.error}]" if ours.error else "")
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.extraction",
        description="Score regwatch's extraction beside bare trafilatura on corpora with gold output.",
    )
    parser.add_argument(
        "corpora", nargs="+", type=Path, help="corpus directories (see benchmarks/extraction/corpora.py)"
    )
    parser.add_argument(
        "--split",
        choices=(*SPLITS, "both", "all"),
        default="both",
        help="dev, test, both (one row each, the default) or all pages as one row",
    )
    parser.add_argument(
        "--worst", type=int, default=0, metavar="N", help="also list the N pages where regwatch does worst"
    )
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument(
        "--save", type=Path, help="write each side's output and the gold per page under this directory"
    )
    parser.add_argument("--only", nargs="*", default=(), help="score only these page ids")
    parser.add_argument(
        "--record-split",
        metavar="COMMIT",
        help="only write the corpus's split to splits.json, noting the corpus commit (one corpus at a time)",
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("trafilatura").setLevel(logging.ERROR)  # its per-page parse notes drown the report

    recorded = load_recorded()
    groups: list[tuple[str, str, list[PageScore]]] = []
    every: list[PageScore] = []
    for directory in args.corpora:
        try:
            kind, pages = read_corpus(directory)
        except (FileNotFoundError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - a one-line error for the user
            return 2
        name = kind if kind != "regwatch" else directory.name
        _check_commit(name, directory, recorded)
        if args.record_split:
            record(name, [p.id for p in pages], _SOURCES.get(kind, str(directory)), args.record_split)
            print(f"{name}: {len(pages)} pages' split recorded in splits.json")  # noqa: T201
            continue
        for page in pages:
            page.corpus = name
        chosen = [
            (page, split_of(name, page.id, recorded))
            for page in pages
            if not args.only or page.id in args.only
        ]
        if args.split in SPLITS:
            chosen = [(page, split) for page, split in chosen if split == args.split]
        scores = score_pages(chosen, jobs=args.jobs, save=args.save)
        every.extend(scores)
        if args.split == "both":
            groups.extend((name, split, [s for s in scores if s.split == split]) for split in SPLITS)
        else:
            groups.append((name, args.split, scores))
    if args.record_split:
        return 0
    groups = [g for g in groups if g[2]]
    print(table(groups))  # noqa: T201 - the harness's report is its output
    if args.worst:
        print()  # noqa: T201
        print(worst(every, args.worst))  # noqa: T201
    failed = [(corpus, split, lost) for corpus, split, scores in groups if (lost := losses(scores))]
    for corpus, split, lost in failed:
        print(f"regwatch below bare trafilatura on {corpus} ({split}): {', '.join(lost)}", file=sys.stderr)  # noqa: T201
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
