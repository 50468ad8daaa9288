"""Readers of the corpora the extraction harness scores: each turns a directory into gold pages.

A corpus is a directory; its layout says which reader applies (:func:`read_corpus`):

- ``regwatch``: ``NAME.html`` beside ``NAME.json`` (``url``; a whole ``body`` cut by hand, or
  ``with``/``without`` snippets; optional ``title``, ``published``, ``authors``, ``exclude``,
  ``timezone``, ``type``, ``language``): the team's pages in ``tests/data/crawl_quality/`` and
  ``tests/data/crawl_snippets/``.
- ``readability``: a clone of https://github.com/mozilla/readability (``test/test-pages/NAME/``
  with ``source.html``, ``expected.html``, ``expected-metadata.json``). The body gold is the text
  of ``expected.html``, reviewed by hand whenever it changes; the published gold is the time the
  page declares. Pages under 5 kB are the project's feature tests (one HTML construct each),
  not real pages, and are left out. Titles and bylines there are Readability's own guesses
  (a site's name, "Follow Author"): bylines are scored only where they name people
  (:data:`READABILITY_BYLINE_FLAWS` lists the others), titles not at all.
- ``l3s-gn1``: the L3S-GN1 news collection (621 English news pages from 2008, each labelled by
  hand: headline, full text, supplemental, comments, related content; Kohlschütter et al.,
  WSDM 2010) as converted in https://github.com/geodrome/page-signal (``original/``,
  ``annotated/``, ``url-mapping.txt``). Body gold: the full-text blocks; title gold: the first
  headline block. The annotated copy lost non-ASCII characters to "?": there a "?" in the gold
  title stands for any one character.
- ``mercury``: the saved news pages of Postlight's Parser (https://github.com/postlight/parser,
  ``fixtures/``) with the headline, author, publication instant and opening words its tests
  assert (:mod:`.mercury`).
- ``trafilatura-eval``: trafilatura's evaluation set (https://github.com/adbar/trafilatura,
  ``tests/evaldata.json`` with ``tests/eval/`` and ``tests/cache/``): about 1,000 pages, mostly
  German, judged by snippets, with title, author and day of publication checked by people.

No corpus file is kept in this repository: the README says how to clone each at the commit
the figures were measured on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html

from .mercury import read_mercury, restore_meta_content
from .scoring import valid_gold_time

SYNTHETIC_MAX_BYTES = 5_000

# Readability bylines that name no person (a publisher, a site section, a date, a button label),
# so that no author list can match them; a page listed here is not scored for authors.
READABILITY_BYLINE_FLAWS: dict[str, str] = {
    "archive-of-our-own": "the site's operator, not the story's author",
    "bbc-1": "the publisher",
    "breitbart": "name glued to a date and a comment count",
    "ebb-org": "name with a URL",
    "heise": "the magazine's name",
    "ietf-1": "surname-first reference style",
    "pixnet": "a blog's display name with a user id",
    "royal-road": "a button label",
    "seattletimes-1": "a date",
    "spiceworks": "a date",
    "wikipedia-2": "the wiki's contributors",
    "wikipedia-3": "the wiki's contributors",
    "wikipedia-4": "the wiki's contributors",
    "yahoo-4": "a role ('individual')",
    "youth": "the site's name glued to the author's",
    "herald-sun-1": "another story's byline; the page's meta and JSON name Laurie Oakes",
    "salon-1": "a sidebar story's byline; the page's rel=author link names Richard Eskow",
}
# Readability pages that are not real pages though larger than SYNTHETIC_MAX_BYTES.
READABILITY_SYNTHETIC = frozenset({"data-url-image"})


@dataclass
class GoldPage:
    """One page and what a person (or a reviewed reference) says an extractor should return."""

    corpus: str
    id: str
    url: str
    path: Path
    body: str | None = None  # the whole text, paragraphs separated by blank lines
    with_: list[str] = field(default_factory=list)  # snippets the body must hold
    without: list[str] = field(default_factory=list)  # snippets it must not
    title: str | None = None
    title_wildcard: bool = False  # "?" in the gold title stands for any one character
    published: str | None = None  # ISO instant, or a day
    authors: list[str] | None = None
    language: str = ""
    exclude: str = ""  # a source's ``selectors.exclude`` override (the team's pages)
    timezone: str = ""  # the publisher's zone, for a page that shows only a day
    kind: str = ""  # the team's pages: news, regulator, government, parliament

    def html(self) -> bytes:
        raw = self.path.read_bytes()
        if self.corpus == "regwatch":  # the team's pages link to {base}: the page's own origin
            origin = "/".join(self.url.split("/")[:3])
            raw = raw.replace(b"{base}", origin.encode())
        if self.corpus == "mercury":
            raw = restore_meta_content(raw)
        return raw


_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "table",
        "tr",
        "td",
        "th",
        "br",
        "section",
        "article",
        "header",
        "footer",
        "figure",
        "figcaption",
        "dd",
        "dt",
        "dl",
        "hr",
        "main",
        "aside",
        "nav",
    ]
)
_BLANKS = re.compile(r"[ \t\r\f\v\u00a0]+")


def html_text(fragment: str) -> str:
    """Readable text of an HTML document or fragment: one line per block, blank lines between."""
    root = lxml.html.document_fromstring(fragment or "<p></p>")
    for bad in root.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    pieces: list[str] = []

    def walk(element: lxml.html.HtmlElement) -> None:
        block = isinstance(element.tag, str) and element.tag in _BLOCK_TAGS
        if block:
            pieces.append("\n")
        if element.text and isinstance(element.tag, str):
            pieces.append(element.text)
        for child in element:
            walk(child)
        if block:
            pieces.append("\n")
        if element.tail:
            pieces.append(element.tail)

    walk(root)
    lines = [_BLANKS.sub(" ", line).strip() for line in "".join(pieces).split("\n")]
    return "\n\n".join(line for line in lines if line)


def _read_regwatch(directory: Path) -> Iterator[GoldPage]:
    for path in sorted(directory.glob("*.html")):
        gold = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        yield GoldPage(
            corpus="regwatch",
            id=path.stem,
            url=gold["url"],
            path=path,
            body=gold.get("body"),
            with_=list(gold.get("with", [])),
            without=list(gold.get("without", [])),
            title=gold.get("title"),
            published=gold.get("published"),
            authors=gold.get("authors"),
            language=gold.get("language", ""),
            exclude=gold.get("exclude", ""),
            timezone=gold.get("timezone", ""),
            kind=gold.get("type", ""),
        )


def _readability_pages(directory: Path) -> Path:
    for candidate in (directory / "test" / "test-pages", directory / "test-pages", directory):
        if any(candidate.glob("*/expected-metadata.json")):
            return candidate
    raise FileNotFoundError(directory)


_BYLINE_LEAD = re.compile(r"^\s*(?:written\s+)?(?:by|par|por|von)\b[\s:]*", re.I)


def readability_byline_names(byline: str) -> list[str]:
    """The names a Readability byline gives: "By A and B" / "A, B" -> [A, B]; a role or degree after a comma dropped."""
    lines = [line.strip() for line in byline.splitlines() if line.strip()]
    if len(lines) > 1 and not _BYLINE_LEAD.sub("", lines[0]).strip():
        lines = [lines[0] + " " + lines[1], *lines[2:]]  # "By" alone on its line, the name on the next
    text = _BYLINE_LEAD.sub("", lines[0] if lines else "").strip()
    text = re.sub(r"\s*\((?:avec|with)\b.*$", "", text)
    text = re.sub(r"\s*\([^)]*\)", "", text)  # "Bruno (Henrique Zecchin) Rodrigues": a nickname aside
    names = [part.strip() for part in re.split(r"\s*(?:,|\band\b|&|\bet\b)\s*", text) if part.strip()]
    return [n for n in names if not re.fullmatch(r"(?:MA|MD|PhD|MSc|BSc|RN)\.?", n)]


def _read_readability(directory: Path) -> Iterator[GoldPage]:
    pages = _readability_pages(directory)
    for folder in sorted(p for p in pages.iterdir() if p.is_dir()):
        source = folder / "source.html"
        if not source.exists() or source.stat().st_size < SYNTHETIC_MAX_BYTES:
            continue
        if folder.name in READABILITY_SYNTHETIC:
            continue
        meta = json.loads((folder / "expected-metadata.json").read_text(encoding="utf-8"))
        expected = (folder / "expected.html").read_bytes().decode("utf-8", errors="replace")
        byline = meta.get("byline") or ""
        authors = None
        if byline and folder.name not in READABILITY_BYLINE_FLAWS:
            authors = readability_byline_names(byline)
        yield GoldPage(
            corpus="readability",
            id=folder.name,
            url="http://fakehost/test/page.html",  # the URL Readability's own tests give every page
            path=source,
            body=html_text(expected),
            published=valid_gold_time(meta.get("publishedTime")),
            authors=authors,
            language=(meta.get("lang") or "").split("-")[0].lower(),
        )


_MOJIBAKE = re.compile("[\u00c2\u00c3][\u0080-\u00bf]")


def _unmangle(text: str) -> str:
    """UTF-8 read as cp1252 ("RÃ¼cker"), read back as UTF-8 where that is what happened."""
    if not _MOJIBAKE.search(text):
        return text
    try:
        return text.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _l3s_labelled_blocks(annotated: bytes) -> list[tuple[int, str]]:
    """(label, text) of each text block of an annotated L3S page, in document order.

    A block's label is that of the innermost ``x-nc-selN`` span around it (0: not content,
    1: headline, 2: full text, 3: supplemental, 4: related, 5: comments); text outside any
    span is not content.
    """
    root = lxml.html.document_fromstring(annotated.decode("utf-8", errors="replace"))
    for bad in root.xpath("//script|//style|//noscript|//title"):
        bad.drop_tree()
    blocks: list[tuple[int, str]] = []

    def label_of(element: lxml.html.HtmlElement, inherited: int) -> int:
        match = re.search(r"x-nc-sel(\d)", element.get("class", "") if isinstance(element.tag, str) else "")
        return int(match.group(1)) if match else inherited

    def add(label: int, text: str | None) -> None:
        if text and text.strip():
            text = _unmangle(_BLANKS.sub(" ", text.replace("\n", " ")).strip())
            if blocks and blocks[-1][0] == label and not blocks[-1][1].endswith("\n"):
                blocks[-1] = (label, blocks[-1][1] + " " + text)
            else:
                blocks.append((label, text))

    def end_block() -> None:
        if blocks and not blocks[-1][1].endswith("\n"):
            blocks[-1] = (blocks[-1][0], blocks[-1][1] + "\n")

    def walk(element: lxml.html.HtmlElement, label: int) -> None:
        mine = label_of(element, label)
        is_block = isinstance(element.tag, str) and element.tag in _BLOCK_TAGS
        if is_block:
            end_block()
        if isinstance(element.tag, str):
            add(mine, element.text)
        for child in element:
            walk(child, mine)
        if is_block:
            end_block()
        add(label, element.tail)

    walk(root, 0)
    return [(label, text.strip()) for label, text in blocks]


def _read_l3s(directory: Path) -> Iterator[GoldPage]:
    base = next(p.parent for p in directory.rglob("url-mapping.txt"))
    urls: dict[str, str] = {}
    for line in (base / "url-mapping.txt").read_text(encoding="utf-8", errors="replace").splitlines():
        if "\t" in line:
            urn, url = line.split("\t", 1)
            urls[urn.strip("<>").removeprefix("urn:uuid:")] = url.strip()
    for original in sorted((base / "original").glob("*.html")):
        annotated = base / "annotated" / original.name
        if not annotated.exists():
            continue
        blocks = _l3s_labelled_blocks(annotated.read_bytes())
        body = "\n\n".join(text for label, text in blocks if label == 2)
        headlines = [text for label, text in blocks if label == 1 and 1 <= len(text.split()) <= 30]
        yield GoldPage(
            corpus="l3s-gn1",
            id=original.stem,
            url=urls.get(original.stem, f"http://l3s-gn1.invalid/{original.stem}.html"),
            path=original,
            body=body,
            title=headlines[0] if headlines else None,
            title_wildcard=True,
            language="en",
        )


# The gold joins several names in one string ("Benjamin Fischer und Marcus Theurer", "A; B"): one name each.
_NAME_LIST = re.compile(r"\s*(?:;|,|\s(?:und|and|et|&)\s)\s*")


def _read_trafilatura_eval(directory: Path) -> Iterator[GoldPage]:
    tests = directory / "tests" if (directory / "tests" / "evaldata.json").exists() else directory
    data = json.loads((tests / "evaldata.json").read_text(encoding="utf-8"))
    for url, item in data.items():
        name = item.get("file")
        path = next(
            (tests / d / name for d in ("eval", "cache") if name and (tests / d / name).exists()), None
        )
        if path is None:
            continue
        author = item.get("author")
        authors = None
        if author is not None:
            names = author if isinstance(author, list) else [author]
            authors = [a.strip() for n in names for a in _NAME_LIST.split(n) if a.strip()]
        yield GoldPage(
            corpus="trafilatura-eval",
            id=name,
            url=url,
            path=path,
            with_=list(item.get("with", [])),
            without=list(item.get("without", [])),
            title=item.get("title") or None,
            published=valid_gold_time(item.get("date")),
            authors=authors,
        )


def _read_mercury(directory: Path) -> Iterator[GoldPage]:
    for gold in read_mercury(directory):
        yield GoldPage(corpus="mercury", **gold)  # type: ignore[arg-type]


READERS: dict[str, tuple[Callable[[Path], bool], Callable[[Path], Iterator[GoldPage]]]] = {
    "readability": (
        lambda d: any(d.glob("test/test-pages/*/expected.html")) or any(d.glob("*/expected.html")),
        _read_readability,
    ),
    "l3s-gn1": (lambda d: any(d.rglob("url-mapping.txt")), _read_l3s),
    "trafilatura-eval": (
        lambda d: (d / "tests" / "evaldata.json").exists() or (d / "evaldata.json").exists(),
        _read_trafilatura_eval,
    ),
    "mercury": (lambda d: any(d.glob("src/extractors/custom/*/index.test.js")), _read_mercury),
    "regwatch": (lambda d: any(d.glob("*.json")) and any(d.glob("*.html")), _read_regwatch),
}


def corpus_kind(directory: Path) -> str:
    """Which reader a directory's layout calls for; a clear error when none does."""
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: no such corpus directory")
    for kind, (detect, _) in READERS.items():
        if detect(directory):
            return kind
    raise FileNotFoundError(
        f"{directory}: not a corpus this harness reads (a clone of mozilla/readability, "
        "geodrome/page-signal, adbar/trafilatura or postlight/parser, or NAME.html + NAME.json pages)"
    )


def read_corpus(directory: Path) -> tuple[str, list[GoldPage]]:
    kind = corpus_kind(directory)
    pages = list(READERS[kind][1](directory))
    if not pages:
        raise FileNotFoundError(f"{directory}: no pages to score")
    return kind, pages
