"""The labelled real-text set for the tagging harness: labels here, texts in public repositories.

The texts are real public texts nobody on the team wrote (news articles, policy
digests, Wikipedia abstracts, documentation, blog posts) found in public GitHub
repositories. They are *not* committed: ``data/nlp_real_labels.jsonl`` keeps, per
excerpt, where it lives and what it mentions::

    {"id": "economist-0042", "repo": "owner/name", "commit": "<40 hex>", "path": "dir/file.md",
     "start": 1234, "end": 2345, "sha1": "<sha1 of text[start:end]>", "date": "2025-11-22",
     "hard_negative": false, "entities": ["ofcom", "online_safety_act"], "note": "..."}

``start``/``end`` are character offsets into the file decoded as UTF-8 (with
replacement), ``sha1`` is the SHA-1 of that slice encoded as UTF-8 (a changed
file is reported, never silently scored), ``entities`` the watchlist ids the
excerpt really mentions (document level, labelled by reading it),
``hard_negative`` marks an excerpt chosen because a watched name occurs in
another sense (the verb "grok", "XAI" for explainable AI, Australia's Online
Safety Act...), and ``date`` (optional) the day the text was published, which
dates role-only mentions ("the Technology Secretary").

Rebuilding: each repository must be available under a corpus directory, as
``DIR/owner+name/repo`` (the layout the search tool's ``fetch`` produces),
``DIR/owner+name`` or ``DIR/owner/name``, each a git repository (bare or not)
that has the commit. ``python benchmarks/quality_nlp.py --sources`` lists them
with their commits; ``--clone`` clones the missing ones from GitHub.

The text handed to the tagger is the slice with its markup removed
(:func:`clean`): HTML tags and entities, Markdown images, link targets,
emphasis, heading/list/quote markers, footnote marks.

Split: an excerpt is in the *test* split when the first hex digit of its
``sha1`` is 0-7, else in *dev* (about half each, fixed by the text itself).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

LABELS = Path(__file__).resolve().parent / "data" / "nlp_real_labels.jsonl"
TEST_DIGITS = frozenset("01234567")


class CorpusError(RuntimeError):
    """A repository, commit or file of the labelled set cannot be read."""


@dataclass
class Excerpt:
    """One labelled excerpt and, once rebuilt, its text."""

    id: str
    repo: str
    commit: str
    path: str
    start: int
    end: int
    sha1: str
    entities: frozenset[str]
    hard_negative: bool = False
    date: str = ""
    note: str = ""
    raw: str = ""
    text: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def split(self) -> str:
        return "test" if self.sha1[:1] in TEST_DIGITS else "dev"

    @property
    def source(self) -> str:
        return self.repo.split("/", 1)[1] if "/" in self.repo else self.repo


def load_labels(path: Path = LABELS) -> list[Excerpt]:
    """The label records, in file order; a malformed line is an error naming its line."""
    excerpts: list[Excerpt] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            excerpt = Excerpt(
                id=str(row["id"]),
                repo=str(row["repo"]),
                commit=str(row["commit"]),
                path=str(row["path"]),
                start=int(row["start"]),
                end=int(row["end"]),
                sha1=str(row["sha1"]),
                entities=frozenset(row.get("entities") or ()),
                hard_negative=bool(row.get("hard_negative", False)),
                date=str(row.get("date") or ""),
                note=str(row.get("note") or ""),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise CorpusError(f"{path}:{number}: not a label record ({exc})") from None
        if excerpt.id in seen:
            raise CorpusError(f"{path}:{number}: id {excerpt.id!r} is used twice")
        seen.add(excerpt.id)
        excerpts.append(excerpt)
    return excerpts


def sources(excerpts: Iterable[Excerpt]) -> dict[str, set[str]]:
    """Repository -> the commits the labels need from it."""
    needed: dict[str, set[str]] = {}
    for excerpt in excerpts:
        needed.setdefault(excerpt.repo, set()).add(excerpt.commit)
    return needed


def repo_dir(root: Path, repo: str) -> Path | None:
    """Where ``repo`` is under ``root`` (see the module docstring), or None."""
    owner_name = repo.replace("/", "+")
    for candidate in (root / owner_name / "repo", root / owner_name, root / repo):
        if (candidate / "HEAD").is_file() or (candidate / ".git").exists():
            return candidate
    return None


def _git_show(directory: Path, commit: str, path: str) -> bytes:
    result = subprocess.run(
        ["git", "-C", str(directory), "show", f"{commit}:{path}"], capture_output=True, check=False
    )
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise CorpusError(f"{directory}: cannot read {commit[:12]}:{path} ({message[-1] if message else ''})")
    return result.stdout


def rebuild(excerpts: list[Excerpt], root: Path) -> list[Excerpt]:
    """Fill ``raw`` and ``text`` of each excerpt from the repositories under ``root``.

    An excerpt whose repository, file or checksum is missing or wrong keeps an
    empty text and says why in ``problems``; the others are unaffected.
    """
    files: dict[tuple[str, str, str], str] = {}
    for excerpt in excerpts:
        directory = repo_dir(root, excerpt.repo)
        if directory is None:
            excerpt.problems.append(f"repository {excerpt.repo} not found under {root}")
            continue
        key = (excerpt.repo, excerpt.commit, excerpt.path)
        if key not in files:
            try:
                files[key] = _git_show(directory, excerpt.commit, excerpt.path).decode("utf-8", "replace")
            except CorpusError as exc:
                excerpt.problems.append(str(exc))
                continue
        raw = files[key][excerpt.start : excerpt.end]
        if sha1(raw) != excerpt.sha1:
            excerpt.problems.append(f"{excerpt.repo}:{excerpt.path}[{excerpt.start}:{excerpt.end}] changed")
            continue
        excerpt.raw = raw
        excerpt.text = clean(raw)
    return excerpts


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()]|\([^)]*\))*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_FOOTNOTE = re.compile(r"\[\^[^\]]*\]:?")
_LINE_MARK = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+|>[ \t]?|[*+-][ \t]+|\d+\.[ \t]+)", re.M)
_STRONG = re.compile(r"\*\*|__")
_EMPHASIS = re.compile(
    r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])|(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"
)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>])")
_SPACES = re.compile(r"[ \t]+")
_BLANKS = re.compile(r"\n\s*\n\s*(?:\n\s*)+")


def clean(raw: str) -> str:
    """The excerpt as plain text: markup removed, words and sentences kept."""
    text = _COMMENT.sub(" ", raw)
    text = _TAG.sub(" ", text)
    text = _IMAGE.sub(" ", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _FOOTNOTE.sub("", text)
    text = _LINE_MARK.sub("", text)
    text = _STRONG.sub("", text)
    text = _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)
    text = _ESCAPE.sub(r"\1", text)
    text = html.unescape(text)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANKS.sub("\n\n", text).strip()
