"""An article's body text: trafilatura's main-text blocks, cut further by general rules.

Before trafilatura runs, page parts it keeps but that are never article text are
removed (:mod:`crawlers._prune`). Its blocks are then cut further: blocks that
are mostly links (related stories, document lists), repeats of other blocks (pull
quotes, key-event lists), page notices (script, feedback, "ENDS", a copyright
line), wire credits at the end, and a heading left with nothing under it. Each
rule is general, never a site's: a site the rules get wrong gets a per-source
override (``exclude``).
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from typing import Any

import lxml.html
import trafilatura
from cssselect import GenericTranslator, SelectorError
from trafilatura.settings import Extractor

from ._agreement import agreed_body
from ._text import clean_text, is_web_url, word_count

logger = logging.getLogger(__name__)


def _prune_xpath(exclude: str, url: str) -> list[str] | None:
    """XPath for trafilatura's ``prune_xpath`` from a source's ``exclude`` CSS selector."""
    if not exclude:
        return None
    try:
        return [GenericTranslator().css_to_xpath(exclude)]
    except SelectorError as exc:
        logger.warning("extract %s: ignoring invalid exclude selector %r (%s)", url, exclude, exc)
        return None


_HEADING_LINKS = "|".join(f"//h{rank}//a" for rank in range(1, 7))


def unlink_heading_anchors(doc: lxml.html.HtmlElement) -> None:
    """Take out a heading's own anchors, keeping its text: a link in an ``<h1>``–``<h6>`` with no
    address, an address within the page (``#installation``) or no text (a permalink icon).

    trafilatura, asked to keep links, drops a heading that starts with a link; so every section
    heading of a README or a documentation page, anchored for linking, was lost. A heading linked
    to another page is left as it is.
    """
    for link in doc.xpath(_HEADING_LINKS):
        href = (link.get("href") or "").strip()
        if not link.text_content().strip():
            link.drop_tree()  # its tail, the heading's text, stays
        elif not href or href.startswith("#"):
            link.drop_tag()


# A block mostly made of link text is a list of links (related stories, documents, "Read more"), not prose.
LINK_SHARE_MAX = 0.8
# A list is a list of links (related stories, a document index) when more than this share of its items
# are mostly links: those items go. A list of the article's own (references, "See also", an API's names)
# holds a few linked items among text ones, and stays whole.
LINK_LIST_SHARE = 0.25
# A unit of at least this many words found again elsewhere in the body is a repeat (pull quote, quote box).
REPEAT_MIN_WORDS = 6
# Wire copy's closing credits ("Reporting by …; Editing by …"), as every syndicating site carries them.
_CREDITS = re.compile(
    r"^(?:additional\s+)?(?:reporting|writing|editing|compiled)(?:\s+and\s+\w+)?\s+by\s+[^\n]{2,250}$", re.I
)
# Page furniture as a short block of its own: a script notice, a feedback prompt, a press release's end mark.
_NOTICE = re.compile(
    r"\b(?:enable|turn on|activate|switch on)\s+javascript\b"
    # (Linear forms: "-*\s*ends\s*-*" inside "^\W*…\W*$" backtracked quadratically over long blanks.)
    r"|^\W*(?:(?:was|is) this (?:page|article|information) (?:helpful|useful)|ends)\W*$"
    r"|^(?=\W*$)\W*?#{3}"
    # a copyright line: "© 2008 Times Newspapers Ltd.", "Copyright (c) 2021 …", "Copyright 2019 …"
    r"|^\W*(?:copyright\s*)?(?:©|\(c\))\s*(?:\d{4}|copyright)|^\W*copyright\s+\d{4}\b",
    re.I,
)


# A link to an image file is the image's own link (a zoom), never a link elsewhere.
_IMAGE_TARGET = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|svg)(?:[?#]|$)", re.IGNORECASE)


def _link_share(element: Any) -> float:
    """The share of an element's text that is the text of links to other pages.

    A link to an image file does not count: trafilatura hands the text that follows an image's link
    ("<a href=photo.jpg><img></a>Minister X said…") to the link, so a paragraph opened by a zoomable
    photo would otherwise read as a link and be cut.
    """
    text = clean_text("".join(element.itertext()))
    if not text:
        return 0.0
    linked = sum(
        len(clean_text("".join(ref.itertext())))
        for ref in element.iter("ref")
        if not _IMAGE_TARGET.search(ref.get("target", ""))
    )
    return linked / len(text)


_BLOCK_CHILDREN = frozenset({"p", "head", "lb", "list", "item", "quote", "div", "table", "row", "cell"})


def _spaced_text(element: Any) -> str:
    """An element's text, with a space where a block inside it starts or ends.

    A list item holding a heading and a paragraph ("<head>WebIDE</head><p>Develop…</p>") reads
    "WebIDE Develop…", never "WebIDEDevelop…"; inline parts (links, emphasis) still join as written.
    """
    pieces: list[str] = []

    def walk(node: Any) -> None:
        block = node is not element and node.tag in _BLOCK_CHILDREN
        if block:
            pieces.append(" ")
        pieces.append(node.text or "")
        for child in node:
            if isinstance(child.tag, str):
                walk(child)
            pieces.append(child.tail or "")
        if block:
            pieces.append(" ")

    walk(element)
    return clean_text("".join(pieces))


def _norm_words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _block_lines(block: Any) -> list[str] | None:
    """Text lines of one block of trafilatura's output; None when the block is not article text."""
    if block.tag == "list":
        items = list(block.iter("item"))
        linked = {item for item in items if _link_share(item) >= LINK_SHARE_MAX}
        if len(linked) > LINK_LIST_SHARE * len(items):
            items = [item for item in items if item not in linked]
        lines = ["- " + _spaced_text(item) for item in items]
        return [line for line in lines if line != "- "] or None
    if block.tag == "table":
        rows = [" | ".join(_spaced_text(c) for c in row) for row in block.iter("row")]
        return [row for row in rows if row.strip(" |")] or None
    if block.tag != "head" and _link_share(block) >= LINK_SHARE_MAX:
        return None  # a linked heading stays; if all under it goes, so does it (_heads_nothing)
    for lb in block.iter("lb"):
        lb.tail = "\n" + (lb.tail or "")
    lines = [clean_text(line) for line in "".join(block.itertext()).split("\n")]
    text = " ".join(lines)
    if len(text) < 160 and _NOTICE.search(text):
        return None
    return [line for line in lines if line] or None


def _drop_repeats(blocks: list[tuple[str, list[str]] | None]) -> None:
    """Cut (set to None, in place) text the body already holds elsewhere.

    A paragraph or quote inside a longer block goes (pull quotes, "Quote(s)" boxes), a list
    item equal to a paragraph or heading goes (key-event lists), and of two equal blocks the
    first stays. Units shorter than REPEAT_MIN_WORDS words are left alone.
    """
    units: list[tuple[int, str, str]] = []  # (block index, kind, line)
    for index, block in enumerate(blocks):
        if block is None or block[0] == "table":
            continue
        kind, lines = block
        units.extend((index, kind, line) for line in (lines if kind == "list" else [" ".join(lines)]))
    norms = [_norm_words(line.removeprefix("- ") if kind == "list" else line) for _, kind, line in units]
    joined = "\n".join(norms)
    if len(joined) * len(norms) > 50_000_000:
        return  # a pathological page: not worth a quadratic scan
    equal = {norm: norms.count(norm) for norm in set(norms)}
    outside_lists = {norm for norm, (_, kind, _) in zip(norms, units, strict=True) if kind != "list"}
    seen: set[str] = set()
    repeated: set[tuple[int, str]] = set()
    for norm, (index, kind, line) in zip(norms, units, strict=True):
        if norm.count(" ") + 1 >= REPEAT_MIN_WORDS:
            if kind == "list":
                cut = norm in outside_lists
            else:
                cut = norm in seen or (kind != "head" and joined.count(norm) > equal[norm])
            if cut:
                repeated.add((index, line))
        if kind != "list":
            seen.add(norm)
    for index, line in repeated:
        block = blocks[index]
        if block is None:
            continue
        kind, lines = block
        lines = [kept for kept in lines if kept != line] if kind == "list" else []
        blocks[index] = (kind, lines) if lines else None


def _heads_nothing(elements: list[Any], blocks: list[tuple[str, list[str]] | None], index: int) -> bool:
    """Whether the heading at ``index`` is left without a section.

    It is when what followed it was all cut here (links, a repeated quote) up to the next
    heading or the end, or when a heading of a higher rank follows it at once (an ``<h3>``
    "Document Details" whose list trafilatura dropped, right before an ``<h2>``).
    """
    found = next(
        ((i, block) for i, block in enumerate(blocks[index + 1 :], start=index + 1) if block is not None),
        None,
    )
    if found is None:
        return True
    following, (kind, _) = found
    if following == index + 1:
        mine, theirs = elements[index].get("rend", ""), elements[following].get("rend", "")
        return kind == "head" and bool(mine and theirs) and theirs < mine  # "h2" < "h3"
    return kind == "head"


# A body under this many words may be precision mode's cut of a longer article (an opening
# paragraph kept, the rest judged boilerplate): trafilatura's default mode is then asked too.
SHORT_BODY_WORDS = 150
# ... and its answer replaces the precise one only when it holds at least this many times the words.
WIDER_BODY_RATIO = 2.0
# A fast pick (trafilatura without its fallbacks) is kept when it holds at least this many
# paragraphs of prose, this many words, and between these shares of the page's prose.
PROSE_MIN_WORDS = 10
TRUSTED_MIN_PARAGRAPHS = 6
TRUSTED_MIN_WORDS = 300
TRUSTED_PROSE_SHARE = (0.8, 1.5)
# ... and carries it on: at most this share of its words comes before the precise body's opening.
WIDER_BODY_LEAD_SHARE = 0.1


@functools.lru_cache(maxsize=4)
def _trafilatura_options(precise: bool, fast: bool) -> Extractor:
    """trafilatura's settings for one mode, built once: building them reads its config file's
    values again on every call (a twentieth of an article's extraction)."""
    return Extractor(
        output_format="python",
        fast=fast,
        precision=precise,
        comments=False,
        tables=True,
        images=False,
        links=True,  # for the link share of each block; the text keeps only the words
        with_metadata=False,
    )


def _trafilatura_main(
    text: str, url: str, prune: list[str] | None, *, precise: bool, fast: bool = False
) -> Any:
    """trafilatura's main-text element tree in one mode, its fallback extractors included unless ``fast``; None if empty.

    bare_extraction gives the tree trafilatura's XML output is serialised from, without the
    serialise/parse round trip and the content fingerprint only that output needs. Its fallback
    (readability and jusText, run when its own pick looks wrong) is what saves pages whose markup
    misleads it: without it a site's header and copyright line can come out as the article.
    """
    options = copy.copy(_trafilatura_options(precise, fast))  # trafilatura copies it too before changing it
    options.url = options.source = url if is_web_url(url) else None
    document = trafilatura.bare_extraction(text, prune_xpath=prune, options=options)
    body = getattr(document, "body", None)
    if body is not None and len(body) and "".join(body.itertext()).strip():
        return body
    return None


def prose_words(doc: lxml.html.HtmlElement) -> int:
    """Words in the page's paragraphs of prose (``<p>`` or ``<li>`` of ten words or more): what an
    article body holds.

    List items count: an article written as a list of tips or steps holds most of its words there,
    and a fast pick that left the list out would otherwise pass for the whole article.
    """
    counts = (
        word_count(p.text_content())
        for p in doc.iter("p", "li")
        if p.tag == "p" or next(p.iter("p"), None) is None  # an item's own paragraphs are counted as such
    )
    return sum(n for n in counts if n >= PROSE_MIN_WORDS)


def _holds_the_prose(body: str, prose: int) -> bool:
    """Whether trafilatura's own pick is plainly the article: many paragraphs, most of the page's prose and not much else."""
    paragraphs = sum(1 for part in body.split("\n\n") if word_count(part) >= PROSE_MIN_WORDS)
    words = word_count(body)
    return (
        paragraphs >= TRUSTED_MIN_PARAGRAPHS
        and words >= TRUSTED_MIN_WORDS
        and TRUSTED_PROSE_SHARE[0] * prose <= words <= TRUSTED_PROSE_SHARE[1] * prose
    )


def body_text(
    text: str,
    url: str,
    title: str,
    exclude: str = "",
    *,
    prose: int = 0,
    second_opinion: bool = False,
    language: str = "",
) -> str:
    """Main text: trafilatura's blocks, cut by the rules here; one paragraph per block, blank lines between.

    trafilatura's fallback extractors cost a third of its time and change nothing on a page
    whose own pick is plainly the article: given the page's ``prose`` (:func:`prose_words`),
    a fast pick holding most of it in many paragraphs is kept as it is; any other page is read
    with the fallbacks. Precision mode first (its default mode when that finds nothing). A body under
    SHORT_BODY_WORDS words is checked against the default mode's, which replaces it when it
    holds WIDER_BODY_RATIO times the words and opens the same way: precision mode sometimes
    keeps only an article's opening. The blocks are then cut further: blocks that are mostly links, repeats of other
    blocks, page notices (script, feedback, "ENDS"), wire credits at the end, and a heading
    left with nothing under it by those cuts. With ``second_opinion`` (a whole page, not a fragment
    or a source's own article element), a body read with the fallbacks is checked paragraph by
    paragraph against readability-lxml and jusText (:func:`~crawlers._agreement.agreed_body`).
    """
    prune = _prune_xpath(exclude, url)
    if prose:
        main = _trafilatura_main(text, url, prune, precise=True, fast=True)
        body = _cut_blocks(main, title) if main is not None else ""
        if _holds_the_prose(body, prose):
            return body
    quotes: set[str] = set()  # paragraphs of quoted posts and statements: text, though no reader keeps them
    main = _trafilatura_main(text, url, prune, precise=True)
    body = _cut_blocks(main, title, quotes) if main is not None else ""
    if word_count(body) < SHORT_BODY_WORDS:
        wider_main = _trafilatura_main(text, url, prune, precise=False)
        wider = _cut_blocks(wider_main, title, quotes) if wider_main is not None else ""
        if word_count(wider) > WIDER_BODY_RATIO * word_count(body) and _continues(body, wider):
            logger.debug(
                "extract %s: precision mode kept %d words, default mode %d: taking the wider",
                url,
                word_count(body),
                word_count(wider),
            )
            body = wider
        main = main if main is not None else wider_main
    if not body and main is not None:
        # Every block was cut (all links, say): trafilatura's own text beats an empty body.
        body = "\n\n".join(
            clean_text("".join(block.itertext())) for block in main if isinstance(block.tag, str)
        )
        body = "\n\n".join(p for p in body.split("\n\n") if p)
    if second_opinion and body:
        body = agreed_body(body, text, language, url, keep=quotes)
    return body


def _continues(opening: str, wider: str) -> bool:
    """Whether a wider body carries on the same article: the opening's first paragraph is in it, with
    little before it (a kicker, a dateline).

    A wider body that puts much other text first (a cookie notice, a menu) is another pick, not more
    of the article.
    """
    if not opening:
        return True
    at = wider.find(opening.split("\n\n", 1)[0][:200])
    return at >= 0 and word_count(wider[:at]) <= WIDER_BODY_LEAD_SHARE * word_count(wider)


# Loose text after a block of at least this many words is a paragraph of its own.
LOOSE_TEXT_MIN_WORDS = 10


def _with_loose_text(elements: list[Any]) -> list[Any]:
    """Blocks, each followed by the text trafilatura leaves after it (its tail) as a paragraph of its own.

    A page whose paragraphs are bare text between tags ("<p class=first>…</p> Instead of a facility…")
    comes out of trafilatura with that text as the tail of the block before it, which the block's own
    text leaves out: without this, such an article loses every paragraph but the tagged ones.
    """
    found = []
    for element in elements:
        found.append(element)
        loose = clean_text(element.tail or "")
        if (
            loose
            and element.tag != "head"  # a box's heading, its text loose after it (a promotion)
            and word_count(loose) >= LOOSE_TEXT_MIN_WORDS
            and "{{" not in loose  # a client-side template's placeholder text, never rendered as such
        ):
            paragraph = lxml.html.Element("p")
            paragraph.text = loose
            found.append(paragraph)
    return found


def _cut_blocks(main: Any, title: str, quotes: set[str] | None = None) -> str:
    """The text of trafilatura's blocks after the cuts (see :func:`body_text`); ``quotes`` collects the
    paragraphs that are quotations (embedded posts, block quotes)."""
    elements = _with_loose_text([block for block in main if isinstance(block.tag, str)])
    blocks: list[tuple[str, list[str]] | None] = []  # None: a block cut here
    for block in elements:
        lines = _block_lines(block)
        blocks.append(None if lines is None else (block.tag, lines))
    for index in reversed(range(len(blocks))):
        block = blocks[index]
        if block is None:
            continue
        credits = " ".join(block[1])
        if (
            block[0] == "list"
            or not _CREDITS.match(credits)
            or (credits.endswith(".") and ";" not in credits)
        ):
            break  # a closing sentence ("Reporting by the BBC found….") is text, not credits
        blocks[index] = None
    _drop_repeats(blocks)
    paragraphs: list[str] = []
    for index, block in enumerate(blocks):
        if block is None:
            continue
        if block[0] == "head" and _heads_nothing(elements, blocks, index):
            continue
        paragraphs.append("\n".join(block[1]))
        if block[0] == "quote" and quotes is not None:
            quotes.add(paragraphs[-1])
    if paragraphs and clean_text(paragraphs[0]).lower() == title.lower():
        paragraphs.pop(0)  # trafilatura keeps the <h1>; the title is stored on its own
    return "\n\n".join(paragraphs)
