"""Reader of the ``mercury`` corpus: the real news pages of Postlight's Parser (Mercury) and their tests' gold.

A clone of https://github.com/postlight/parser holds about 170 saved pages (``fixtures/``, 2016
to 2022: US, UK, Canadian, Indian, German, French and Japanese publishers) and, per site, a test
(``src/extractors/custom/<host>/index.test.js``) in which a developer wrote down the page's
headline, author and publication instant (UTC), as they checked them against the page. Those asserted values are the gold here; the tests are read as
text (JavaScript string literals), never run.

Scored: title exact; published time to the minute; authors F1 where the asserted author names
people (:data:`MERCURY_AUTHOR_FLAWS` lists the others and why: a URL, a desk, a byline glued to
a label or a bio); an author asserted ``null`` is a page with no byline. Bodies are not scored:
the tests assert only the first 13 words of Mercury's own content, captions included.

The fixtures were saved after Mercury's own clean-up of ``<meta>`` tags, which moves each tag's
``content`` into a ``value`` attribute: :func:`restore_meta_content` moves it back before either
extractor reads the page, so both see the meta tags the publisher wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from .scoring import valid_gold_time

# Asserted authors that do not list people's names as the page gives them; not scored.
MERCURY_AUTHOR_FLAWS: dict[str, str] = {
    "biorxiv.org": "an author list with 'View ORCID Profile' glued to names",
    "bookwalker.jp": "labels ('著者', 'イラスト') inside the names",
    "clinicaltrials.gov": "the sponsoring institution",
    "epaper.zeit.de": "the section glued to the names ('Politik · ')",
    "fortune.com": "the publisher after a comma ('TIME')",
    "genius.com": "the performing band",
    "getnews.jp": "a URL",
    "ici.radio-canada.ca": "the section and the site's name",
    "www.al.com": "an e-mail address after the name",
    "www.apartmenttherapy.com": "a submissions desk",
    "www.asahi.com": "a URL",
    "www.infoq.com": "roles ('作者', '翻訳者') inside the names",
    "www.investmentexecutive.com": "two names glued together, then the agency",
    "www.itmedia.co.jp": "the publisher inside brackets with the name",
    "www.mentalfloss.com": "a shopping desk",
    "www.newyorker.com--multiple-authors": "an illustrator glued to the author",
    "www.nytimes.com--feature": "the publisher",
    "www.oreilly.co.jp": "roles ('著', '監訳', '訳') inside the names",
    "www.publickey1.jp": "the author's biography",
    "www.rbbtoday.com": "initials in brackets",
    "weekly.ascii.jp": "a label and the editorial desk",
    "news.mynavi.jp": "a label ('著者：') before the name",
    "www.yahoo.com": "the syndicating site",
    "www.youtube.com": "the channel",
    "twitter.com": "the account's handle",
    "www.reddit.com": "the poster's handle",
}

_LITERAL = r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`)"""
_EXPRESSION = rf"(?:null|{_LITERAL}(?:\s*\+\s*{_LITERAL})*)"
_FIXTURE = re.compile(r"readFileSync\(\s*'\./fixtures/([^']+)'")
_URL = re.compile(rf"\burl\s*=\s*({_LITERAL})")
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|(.))", re.S)
_FIELDS = ("title", "author", "date_published")
_NAMES = re.compile(r"\s*(?:,|;|\s(?:and|&)\s)\s*")


_META_TAG = re.compile(rb"<meta\b[^>]*>", re.I)
_VALUE_ATTRIBUTE = re.compile(rb"(\s)value=", re.I)
_CONTENT_ATTRIBUTE = re.compile(rb"\scontent=", re.I)


def restore_meta_content(html: bytes) -> bytes:
    """``<meta name=… value=…>`` (Mercury's saved form) back to ``<meta name=… content=…>``."""

    def restore(tag: re.Match[bytes]) -> bytes:
        text = tag.group(0)
        if _CONTENT_ATTRIBUTE.search(text):
            return text
        return _VALUE_ATTRIBUTE.sub(rb"\1content=", text, count=1)

    return _META_TAG.sub(restore, html)


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1) or match.group(2)
    if code:
        return chr(int(code, 16))
    return {"n": "\n", "t": "\t"}.get(match.group(3), match.group(3))


def js_string(expression: str) -> str | None:
    """The value of a JavaScript string expression (literals joined by ``+``); None for ``null``."""
    if expression == "null":
        return None
    return "".join(_ESCAPE.sub(_unescape, lit[1:-1]) for lit in re.findall(_LITERAL, expression, re.S))


def asserted_cases(test_source: str) -> Iterator[tuple[str, str | None, dict[str, str | None]]]:
    """(fixture, URL, asserted fields) of each page a test file reads; a field asserted ``null`` is None."""
    reads = list(_FIXTURE.finditer(test_source))
    for i, read in enumerate(reads):
        end = reads[i + 1].start() if i + 1 < len(reads) else len(test_source)
        urls = _URL.findall(test_source[: read.start()])
        fields: dict[str, str | None] = {}
        for name in _FIELDS:
            found = re.search(
                rf"assert\.equal\(\s*{name}\s*,\s*({_EXPRESSION})\s*,?\s*\)", test_source[read.end() : end]
            )
            if found:
                fields[name] = js_string(found.group(1))
        yield read.group(1), js_string(urls[-1]) if urls else None, fields


def read_mercury(directory: Path) -> Iterator[dict[str, object]]:
    """Each fixture's gold, as keyword arguments of a ``GoldPage`` (the first assertion of a field wins)."""
    merged: dict[str, tuple[str | None, dict[str, str | None]]] = {}
    for test in sorted(directory.glob("src/extractors/custom/*/index.test.js")):
        for fixture, url, fields in asserted_cases(test.read_text(encoding="utf-8")):
            known_url, known = merged.setdefault(fixture, (url, {}))
            for name, value in fields.items():
                known.setdefault(name, value)
            merged[fixture] = (known_url or url, known)
    for fixture, (url, fields) in sorted(merged.items()):
        path = directory / "fixtures" / fixture
        if not url or not path.exists() or not ({"title", "author", "date_published"} & fields.keys()):
            continue
        page_id = fixture.removesuffix(".html")
        authors: list[str] | None = None
        if (
            "author" in fields
            and page_id.split("--")[0] not in MERCURY_AUTHOR_FLAWS
            and page_id not in MERCURY_AUTHOR_FLAWS
        ):
            author = fields["author"]
            authors = [n for n in _NAMES.split(author) if n.strip()] if author else []
        yield {
            "id": page_id,
            "url": url,
            "path": path,
            "title": fields.get("title") or None,
            "published": valid_gold_time(fields.get("date_published")),
            "authors": authors,
        }
