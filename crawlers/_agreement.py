"""A second opinion on an article body: trafilatura's blocks checked against readability-lxml and jusText.

trafilatura keeps whole blocks of a page it reads as the article; on pages laid out with
tables or long link rows (most news sites before 2010, many portals still) some of those
blocks are the site's chrome: a menu row, "Other stories in this section", a copyright cell.
Two extractors built on other ideas, readability-lxml (the container with the densest prose)
and jusText (paragraphs of stopword-rich running text), rarely keep such a block, and rarely
agree on anything that is not the article. So, when readability reads the same article (its
text lies mostly inside the body, or the body inside it, and is not a fragment of it), a
paragraph of the body that neither of them holds is dropped. Lists, data tables and quotations
are left alone: both extractors drop reference lists, tables and embedded posts that are the
article's own.

Measured on the development pages of the corpora in ``benchmarks/extraction`` (README,
"Extraction quality"), where it was tuned; a pick of one whole candidate by agreement
(the "medoid") was measured too and lost on two corpora of four.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Collection

import justext
import lxml.html
from justext.core import ParagraphMaker, PathInfo, classify_paragraphs, revise_paragraph_classification
from justext.paragraph import Paragraph
from lxml import etree
from readability import Document
from readability.readability import REGEXES

logger = logging.getLogger(__name__)

# readability's text must lie this much inside the body, or the body inside it (by shingles; it may read an
# article's comments too), to be read as the same article...
SAME_ARTICLE_SHARE = 0.8
# ... and hold at least this share of the body's shingles (not a fragment of it).
SAME_ARTICLE_MIN_SIZE = 0.4
# A paragraph is held by an extractor when at least this share of its shingles is in that extractor's text.
HELD_SHARE = 0.5
# Paragraphs shorter than this many words (a heading, a dateline) are never dropped: too short to judge.
JUDGED_MIN_WORDS = 5
SHINGLE_WORDS = 4

_WORD = re.compile(r"\w+")
_BLOCKS = ("p", "div", "li", "td", "th", "tr", "br", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre")
# jusText's stoplists by ISO 639-1 code; a page in another language is read with all of them.
_JUSTEXT_LANGUAGES = {
    "ar": "Arabic",
    "bg": "Bulgarian",
    "ca": "Catalan",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "et": "Estonian",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "ga": "Irish",
    "he": "Hebrew",
    "hi": "Hindi",
    "hr": "Croatian",
    "hu": "Hungarian",
    "id": "Indonesian",
    "is": "Icelandic",
    "it": "Italian",
    "ko": "Korean",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "nb": "Norwegian_Bokmal",
    "nl": "Dutch",
    "nn": "Norwegian_Nynorsk",
    "no": "Norwegian_Bokmal",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sl": "Slovenian",
    "sr": "Serbian",
    "sv": "Swedish",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "vi": "Vietnamese",
    "cy": "Welsh",
}


def shingle_set(text: str) -> set[tuple[str, ...]]:
    """Word 4-grams of a text (lower-cased): what two extractions of one page share."""
    words = _WORD.findall(text.lower())
    if len(words) < SHINGLE_WORDS:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def parse_page(html: str) -> lxml.html.HtmlElement | None:
    """The page parsed once for both readers (None when lxml cannot read it).

    Parsed as jusText parses a page (``lxml.html.document_fromstring`` of the text), which gives
    the same tree readability-lxml builds from the same text (it parses the text's UTF-8 bytes).
    """
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _readability_edits(root: lxml.html.HtmlElement) -> bool:
    """Whether readability-lxml would change a tree handed to it: it drops hidden elements in place."""
    if root.xpath("boolean(//*[@hidden])"):
        return True
    return any(REGEXES["displayNoneRe"].search(style) for style in root.xpath("//*/@style"))


def readability_text(html: str, url: str = "", root: lxml.html.HtmlElement | None = None) -> str:
    """The text readability-lxml reads as the page's article ("" when it finds none or fails).

    ``root``, the page already parsed (:func:`parse_page`), spares readability a parse of its own
    when it would leave that tree as it is (it drops a page's hidden elements from the tree it reads).
    """
    source: str | lxml.html.HtmlElement = html if root is None or _readability_edits(root) else root
    try:
        summary = Document(source).summary(html_partial=True)
        fragment = lxml.html.fragment_fromstring(summary, create_parent="div")
    except Exception as exc:  # a third-party reader's failure on one page is no opinion, not an error
        logger.debug("extract %s: readability-lxml read nothing (%s: %s)", url, type(exc).__name__, exc)
        return ""
    for block in fragment.iter(*_BLOCKS):
        block.tail = "\n" + (block.tail or "")
    return fragment.text_content()


@functools.lru_cache(maxsize=64)
def _stoplist(language: str) -> frozenset[str]:
    name = _JUSTEXT_LANGUAGES.get(language)
    if name:
        return frozenset(justext.get_stoplist(name))
    return frozenset(word for each in justext.get_stoplists() for word in justext.get_stoplist(each))


class _ReadParagraph(Paragraph):  # type: ignore[misc]
    """A jusText paragraph whose text is computed once: jusText's classification asks for it
    six times or more per paragraph, and it never changes once the page is read. Its XPath,
    which jusText builds for every paragraph and nothing here reads, is left out."""

    def __init__(self, path: PathInfo) -> None:  # Paragraph's own, less the XPath
        self.dom_path = path.dom
        self.text_nodes: list[str] = []
        self.chars_count_in_links = 0
        self.tags_count = 0
        self.class_type = ""

    @functools.cached_property
    def text(self) -> str:
        text: str = Paragraph.text.fget(self)
        return text


class _ParagraphReader(ParagraphMaker):  # type: ignore[misc]
    """jusText's paragraph maker, making :class:`_ReadParagraph` paragraphs."""

    path: PathInfo
    paragraph: _ReadParagraph | None
    paragraphs: list[_ReadParagraph]

    def _start_new_pragraph(self) -> None:
        if self.paragraph and self.paragraph.contains_text():
            self.paragraphs.append(self.paragraph)
        self.paragraph = _ReadParagraph(self.path)


def justext_text(
    html: str, language: str = "", url: str = "", root: lxml.html.HtmlElement | None = None
) -> str:
    """The paragraphs jusText classifies as running text, one per line ("" when it fails).

    ``root``: the page already parsed (:func:`parse_page`); jusText only reads it.
    """
    try:
        paragraphs = _ParagraphReader.make_paragraphs(
            lxml.html.document_fromstring(html) if root is None else root
        )
        # trafilatura's own settings for jusText: shorter paragraphs and fewer stopwords than
        # jusText's defaults, which read much of a news page as boilerplate.
        classify_paragraphs(paragraphs, _stoplist(language), 50, 150, 0.1, 0.2, 0.25, True)
        revise_paragraph_classification(paragraphs, 150)
    except (etree.ParserError, ValueError) as exc:
        logger.debug("extract %s: jusText read nothing (%s)", url, exc)
        return ""
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def _judged(paragraph: str) -> bool:
    """Whether a body paragraph is prose to check: not short, not a list, not a data table."""
    if len(_WORD.findall(paragraph)) < JUDGED_MIN_WORDS or paragraph.startswith("- "):
        return False
    lines = paragraph.split("\n")
    if all(" | " in line for line in lines) and len(lines) >= 2:
        cells = [[cell.strip() for cell in line.split(" | ")] for line in lines]
        empty = sum(1 for row in cells for cell in row if not cell) / sum(len(row) for row in cells)
        if len({len(row) for row in cells}) == 1 and empty <= 0.3:
            return False  # a table with its columns filled: data, not a layout table of menus and cells
    return True


def _held(paragraph: set[tuple[str, ...]], text: set[tuple[str, ...]]) -> bool:
    return len(paragraph & text) >= HELD_SHARE * len(paragraph)


def agreed_body(
    body: str, html: str, language: str = "", url: str = "", *, keep: Collection[str] = ()
) -> str:
    """``body`` without the paragraphs that neither readability-lxml nor jusText reads as the article.

    Nothing is dropped unless readability reads the same article (its text mostly inside the
    body, or the body inside it, and not a fragment of it): where it reads another part of the
    page, or nothing, there is no second opinion to follow. jusText is asked only about the
    paragraphs readability left out. Paragraphs in ``keep`` (quotations: an embedded post is
    what someone said, and real pages' gold keeps it, though neither reader does) are never
    dropped. The page is parsed once for both readers, and neither is asked when no paragraph
    could be dropped (all short, lists, data tables or kept).
    """
    paragraphs = body.split("\n\n")
    judged = [i for i, paragraph in enumerate(paragraphs) if paragraph not in keep and _judged(paragraph)]
    if len(paragraphs) < 2 or not judged:
        return body  # nothing either reader could take away: neither is asked
    root = parse_page(html)
    theirs = shingle_set(readability_text(html, url, root))
    ours = shingle_set(body)
    shared = len(theirs & ours)
    if not theirs or shared < SAME_ARTICLE_SHARE * min(len(theirs), len(ours)):
        return body
    if len(theirs) < SAME_ARTICLE_MIN_SIZE * len(ours):
        return body
    doubtful = [i for i in judged if not _held(shingle_set(paragraphs[i]), theirs)]
    if not doubtful:
        return body
    jt = shingle_set(justext_text(html, language, url, root) if root is not None else "")
    dropped = {i for i in doubtful if not _held(shingle_set(paragraphs[i]), jt)}
    if not dropped:
        return body
    logger.debug(
        "extract %s: %d of %d paragraphs dropped, neither readability nor jusText reads them as the article",
        url,
        len(dropped),
        len(paragraphs),
    )
    return "\n\n".join(p for i, p in enumerate(paragraphs) if i not in dropped)
