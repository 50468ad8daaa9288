"""An article's headline as the page presents it, reconciled from what the page says in several places.

A page names its article in its JSON-LD ``headline``, its ``og:title``/``twitter:title``, its
``<title>`` and its headings, and most of them carry extra words: the site's name ("| Ofcom",
"Belfast Telegraph"), its section ("- Soccer - Sport"), a prefix ("SFGate: World Views :"). The
headline is the part they agree on: a declared or ``<title>`` text, cut at its separators, whose
longest run of parts the page also shows as one element of its own (a heading, a headline
``div``). Parts that name the site (``og:site_name``, the host's name) never make a headline
alone. Nothing here knows a site: only separators, the page's own text and its host.

About 700 lines, longer than most modules: the rules are exceptions to one another (a declared
headline yields to the ``<h1>`` unless the ``<h1>`` ends with it; a site-only ``<title>`` yields to
the story's heading unless it is itself a heading, one more than a link to another page over
little text), so they are kept where they can be read together.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlsplit

import lxml.etree
import lxml.html

from ._text import clean_text, page_key

# Headlines are short: a "title" longer than this is a page's markup swallowed by a broken <title>.
TITLE_MAX_CHARS = 300
# Between a headline and the site's or section's name: " | ", " - ", " – ", " — ", " :: ", " » ",
# " : ", " / ", " > " and " -- " (breadcrumbs), a glued "_" (Chinese portals: "Headline_Section_Site"),
# a trailing "(Site)", or a dash or colon glued to the word before it ("Music- Headline",
# "Des Moines: Headline"), or a full-width bar or colon (Japanese and Chinese sites, unspaced:
# "Headline：Site"). Splitting more only offers shorter runs: a run the page shows still wins.
# Each whitespace alternative starts only where a run of spaces starts (the lookbehinds): same
# leftmost matches, one linear scan.
_SEPARATOR = re.compile(
    r"(?<!\s)\s+(?:[|\-–—»«•·/~>]|--|::|:)\s+|(?<!\s)\s*\|\s*|(?<=\S)_(?=\S)|(?<=\S)(?=\([^()]{2,60}\)$)"
    r"|(?<=\w)[-–—:]\s+|(?<!\s)\s*[\uff5c\uff1a]\s*"
)
_CODE = re.compile(r"[{};]|\bfunction\b|document\.|\bvar\b|</")
# A heading is a line, not a paragraph: an element named "title" holding more words is a teaser.
HEADING_MAX_WORDS = 25
_HOLDS_BLOCKS = ".//*[self::div or self::p or self::ul or self::ol or self::nav or self::h1 or self::h2 or self::h3 or self::time or self::br]"
_HEADING_CLASS = re.compile(r"head|title|hed\b|hdr", re.I)
_WORD = re.compile(r"\w+")
_CHROME_ROOTS = ".//*[self::header or self::nav or @role='banner' or @role='navigation'][not(.//h1)]"


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


# Classes that hide an element from the eye but not from a screen reader: what it holds is a label
# for listeners ("Headline:") or a separator read between a kicker and the headline (": ").
_SCREEN_READER_ONLY = frozenset(
    {
        "visually-hidden",
        "visuallyhidden",
        "u-visually-hidden",
        "is-visually-hidden",
        "hidden-visually",
        "sr-only",
        "screen-reader-text",
        "screen-reader-only",
        "element-invisible",
        "a11y-hidden",
    }
)


def _screen_reader_only(element: lxml.html.HtmlElement) -> bool:
    return isinstance(element.tag, str) and not _SCREEN_READER_ONLY.isdisjoint(
        (element.get("class") or "").lower().split()
    )


# Elements whose text no one reads as the heading's (a CSS-in-JS <style> inside an <h1>; a table
# laid out inside a title cell, its dateline: "Headline<table><tr><td>Published: …</td></tr></table>").
_UNSEEN = frozenset({"script", "style", "noscript", "template", "table"})
# Elements the eye reads as a break between the texts around them ("<small>Kicker</small><br>Headline").
_BREAKS = frozenset({"br", "div", "p"})


def _around(heading: lxml.html.HtmlElement, mark: lxml.html.HtmlElement | None = None) -> tuple[str, str]:
    """A heading's text as the eye reads it (what only a screen reader hears left out), split at
    ``mark``: (the text before it, the text after it); all of it before when there is no mark."""
    parts: tuple[list[str], list[str]] = ([], [])
    side = 0
    walker = lxml.etree.iterwalk(heading, events=("start", "end", "comment"))
    for event, element in walker:
        if event == "comment":
            parts[side].append(element.tail or "")
        elif event == "start":
            if element is mark:
                side = 1
                walker.skip_subtree()
            elif element is not heading and (_screen_reader_only(element) or element.tag in _UNSEEN):
                parts[side].append(" ")  # it stood between two texts
                walker.skip_subtree()
            else:
                parts[side].append((" " if element.tag in _BREAKS else "") + (element.text or ""))
        elif element is not heading:  # its text is done: what follows it in its parent
            parts[side].append((" " if element.tag in _BREAKS else "") + (element.tail or ""))
    return clean_text("".join(parts[0])), clean_text("".join(parts[1]))


def _heading_text(heading: lxml.html.HtmlElement) -> str:
    """A heading's text without what only a screen reader hears ("Headline:" before the headline)."""
    return _around(heading)[0]


# A label set over the headline inside its heading: the class a publisher gives it ("dachzeile",
# "topline", "kicker", "h1small"), or the headline's own class on what follows it.
_KICKER_CLASS = re.compile(
    r"kicker|top-?line|over-?line|dachzeile|roof-?line|eyebrow|high-?line|topic|small|pre-?title|super-?title|"
    r"fake-h\d",
    re.I,
)
_HEADLINE_PART_CLASS = re.compile(r"headline|title", re.I)
KICKER_MAX_WORDS = 8


def _set_kicker(heading: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The label a heading sets before its headline as an element of its own, if it does: a
    block ("<h1><div class=topic-label>100. Geburtstag</div> Headline</h1>"), a ``<small>`` over a
    line break, or an element whose class or whose follower's class says which is which
    ("<span class=dachzeile>…</span><span class=headline>…</span>"). A plain ``<span>`` first
    is no evidence: it may be the headline's own first part."""
    while (
        len(heading) == 1
        and isinstance(heading[0].tag, str)
        and not (heading.text or "").strip()
        and not (heading[0].tail or "").strip()
    ):
        heading = heading[0]  # <h1><span class="post-title"><small>Kicker</small><br>Headline</span></h1>
    if (heading.text or "").strip() or not len(heading) or not isinstance(heading[0].tag, str):
        return None
    first = heading[0]
    following = first.getnext()
    if first.tag == "a" or _screen_reader_only(first):
        return None
    if (
        first.tag in ("div", "p")
        or (first.tag == "small" and following is not None and following.tag == "br")
        or _KICKER_CLASS.search(first.get("class") or "")
        or (
            following is not None
            and isinstance(following.tag, str)
            and _HEADLINE_PART_CLASS.search(following.get("class") or "")
            and not _HEADLINE_PART_CLASS.search(first.get("class") or "")  # "title__maintext", "title__sub"
        )
    ):
        return first
    return None


def _kicked_headlines(doc: lxml.html.HtmlElement) -> dict[str, str]:
    """The ``<h1>``s set as a kicker and the headline, as {the whole, normalised: the headline}.
    The kicker is set apart by a separator only a screen reader hears ("<span>Klimaschutz</span>
    <span class=visually-hidden>: </span><span>Bohren, …</span>") or as an element of its own
    (:func:`_set_kicker`). Declared titles tell the whole, either way round ("Headline - Kicker");
    the eye reads the kicker as a label over the headline."""
    kicked = {}
    for heading in doc.iter("h1"):
        kicker = rest = ""
        for mark in heading.iterdescendants():
            if _screen_reader_only(mark) and not _WORD.search(mark.text_content()):
                kicker, rest = _around(heading, mark)
                break
        else:
            label = _set_kicker(heading)
            if label is not None:
                kicker, whole = clean_text(label.text_content()), _heading_text(heading)
                if len(kicker.split()) <= KICKER_MAX_WORDS and whole.startswith(kicker):
                    rest = whole[len(kicker) :].lstrip(" :|–—-")
        if _WORD.search(kicker) and len(_norm(rest).split()) >= 2:
            kicked[_norm(f"{kicker} {rest}")] = rest
            kicked[_norm(f"{rest} {kicker}")] = rest
    return kicked


@dataclass(frozen=True)
class _Shown:
    """Texts the page shows as whole elements (normalised), and which of them are headings."""

    texts: frozenset[str]  # outside the page's header and navigation
    headings: tuple[str, ...]  # clean texts of h1-h3 and headline-named elements, in page order
    linked: frozenset[str] = frozenset()  # headings shown only in links elsewhere (a section's name)


def _links_elsewhere(element: lxml.html.HtmlElement, url: str) -> bool:
    """Whether a heading sits in or holds a link, none to the page itself: a section's or the site's
    name, not a post's title linked to its own permalink."""
    anchors = element.xpath("ancestor-or-self::a | .//a")
    here = page_key(url)
    return bool(anchors) and not any(
        here is not None and page_key(a.get("href"), url) == here for a in anchors if a.get("href")
    )


def _shown_texts(doc: lxml.html.HtmlElement, url: str = "") -> _Shown:
    body = doc.find("body")
    if body is None:
        return _Shown(frozenset(), ())
    texts: set[str] = set()
    headings: list[str] = []
    linked: dict[str, bool] = {}
    chrome = {e for root in body.xpath(_CHROME_ROOTS) for e in root.iter()}  # held: lxml keeps their proxies
    for element in body.xpath(
        ".//*[not(self::script or self::style or self::option or self::noscript)]"
        f"[string-length(normalize-space()) > 2 and string-length(normalize-space()) <= {TITLE_MAX_CHARS}]"
    ):
        text = (
            _heading_text(element)
            if element.tag in ("h1", "h2", "h3")
            else clean_text(element.text_content())
        )
        norm = _norm(text)
        if not norm:
            continue
        if element.tag != "h1" and element in chrome:
            continue  # a site's or section's name in its banner or menu is not the article's headline
        texts.add(norm)
        named = " ".join(element.get(k, "") for k in ("class", "id", "itemprop"))
        if element.tag in ("h1", "h2", "h3") or (
            named
            and _HEADING_CLASS.search(named)
            and len(norm.split()) <= HEADING_MAX_WORDS
            and not element.xpath(_HOLDS_BLOCKS)  # an "entry-header" around a date, a byline and the h1
        ):
            headings.append(text)
            linked[norm] = linked.get(norm, True) and _links_elsewhere(element, url)
    return _Shown(frozenset(texts), tuple(headings), frozenset(n for n, is_link in linked.items() if is_link))


def _runs(title: str) -> list[tuple[str, int, int]]:
    """Every contiguous run of a title's separated parts, as (text, first part, last part)."""
    parts: list[tuple[int, int]] = []
    start = 0
    for match in _SEPARATOR.finditer(title):
        parts.append((start, match.start()))
        start = match.end()
    parts.append((start, len(title)))
    parts = [(a, b) for a, b in parts if title[a:b].strip()]
    runs = []
    for i in range(len(parts)):
        for j in range(i, len(parts)):
            runs.append((title[parts[i][0] : parts[j][1]].strip(), i, j))
    return runs


_GENERIC_LABELS = frozenset({"www", "com", "co", "org", "net", "gov", "ac", "edu", "info", "biz", "news"})


# A "site name" of this many words that the page shows as its <h1> is the headline, put in the wrong
# field (msn's application-name); a site's name is shorter, or not the page's headline.
HEADLINE_AS_SITE_WORDS = 6
# Links home read for the site's name (a page repeats its banner's in its footer; a few say it).
HOME_LINKS_READ = 5


@dataclass(frozen=True)
class _Site:
    names: frozenset[str]  # normalised declared names ("belfast telegraph")
    label: str  # the host's own label: "smh" for www.smh.com.au, "icnetwork" for ic….icnetwork.co.uk


def _site(url: str, site_names: Iterable[str]) -> _Site:
    host = urlsplit(url).hostname or ""
    labels = [x for x in host.split(".") if x not in _GENERIC_LABELS and len(x) > 2]
    # Without its hyphens: a title part is compared squashed ("handwerk magazin" on handwerk-magazin.de).
    label = labels[-1].replace("-", "") if labels else ""
    return _Site(frozenset(_norm(n) for n in site_names if _norm(n)), label)


def _home_link_names(doc: lxml.html.HtmlElement) -> list[str]:
    """The site's name as its link home says it (``<a rel="home" title="Mäscot das Schaf">``, the
    site title of WordPress themes): its text and its title, a few words at most."""
    names = []
    for link in doc.xpath('//a[contains(concat(" ", normalize-space(@rel), " "), " home ")]')[
        :HOME_LINKS_READ
    ]:
        for text in (clean_text(link.text_content()), clean_text(link.get("title"))):
            if 0 < len(text.split()) < HEADLINE_AS_SITE_WORDS:
                names.append(text)
    return names


def _is_site_part(text: str, site: _Site) -> bool:
    """Whether a title part names the site: one of its declared names, or its host's name ("METimes.com")."""
    norm = _norm(text)
    if not norm:
        return False
    if norm in site.names:
        return True
    squashed = norm.replace(" ", "")
    return bool(site.label) and site.label in squashed and len(squashed) <= len(site.label) + 10


# A heading that starts and ends with these is set as a headline, not decorated ("[> Jens Weber").
_HEADLINE_STARTS = "\"'“”„‘’«»‹›「『(¿¡"
_HEADLINE_ENDS = "\"'“”‘’«»‹›」』)?!.…"


def _as_headline(heading: str) -> bool:
    return (heading[:1].isalnum() or heading[:1] in _HEADLINE_STARTS) and (
        heading[-1:].isalnum() or heading[-1:] in _HEADLINE_ENDS
    )


def _confirmed(title: str, shown: _Shown, site: _Site) -> str:
    """The longest run of a title's parts that the page shows as an element of its own and that is not only the site's name."""
    best = ""
    runs = _runs(title)
    whole = len({i for _, i, j in runs if i == j}) <= 1
    headings = {_norm(h) for h in shown.headings}
    for run, _, _ in runs:
        norm = _norm(run)
        if len(run) <= len(best) or norm not in shown.texts or _is_site_part(run, site):
            continue
        if whole or len(norm.split()) >= 3 or norm in headings or run == title:
            best = run  # one or two words alone may be a menu entry, unless shown as a heading
    if not best:
        return best
    # "Headline | Site" shown whole (a share link's text): the site's name is still not the headline's.
    best = _trimmed(best, site)
    if _norm(best) not in headings:
        # "Section - Headline" shown whole, the headline alone shown as a heading: that part.
        parts = [
            run
            for run, _, _ in _runs(best)
            if run != best
            and _norm(run) in headings
            and len(_norm(run).split()) >= 3
            and not _is_site_part(run, site)
        ]
        best = max(parts, key=len, default=best)
    # The words are the page's heading's: so are its quotes and dashes ('"American Idol" to …' where
    # the <title> dropped them).
    key = _norm(best)
    return next((h for h in shown.headings if _norm(h) == key and _as_headline(h)), best)


def _trimmed(title: str, site: _Site) -> str:
    """A title without the parts at its ends that are only the site's name (see :func:`_names_site`)."""
    runs = _runs(title)
    if len(runs) < 2:
        return title
    first, last = _kept_span(runs, site, _names_site)
    return next(run for run, i, j in runs if i == first and j == last)


def _kept_span(
    runs: list[tuple[str, int, int]], site: _Site, names_site: Callable[[str, _Site], bool]
) -> tuple[int, int]:
    """The first and last of a title's parts once those at either end that name the site are
    dropped: one part at a time, a declared name spanning several parts ("☆☆☆☆☆ - Journalistenwatch
    e.V. - Aktuelle Geschehnisse"), or a part without a word. One part is always left."""
    by_span = {(i, j): run for run, i, j in runs}
    last = max(j for _, _, j in runs)

    def names(i: int, j: int) -> bool:
        run = by_span[(i, j)]
        return (not _norm(run) or names_site(run, site)) if i == j else _norm(run) in site.names

    first = 0
    while first < last:
        cut = next((j for j in range(first, last) if names(first, j)), None)
        if cut is None:
            break
        first = cut + 1
    while last > first:
        cut = next((i for i in range(last, first, -1) if names(i, last)), None)
        if cut is None:
            break
        last = cut - 1
    return first, last


def _names_site(text: str, site: _Site) -> bool:
    """Whether a title part is the site's name and nothing else: a declared name, or the host's
    label alone or with its domain ("Wolfgang Michal" on wolfgangmichal.de, "tagesschau.de"),
    stricter than :func:`_is_site_part` ("Frauen im THW" on thw.de is a headline's kicker)."""
    norm = _norm(text)
    squashed = norm.replace(" ", "")
    return norm in site.names or (
        bool(site.label) and squashed.startswith(site.label) and len(squashed) <= len(site.label) + 5
    )


def _without_site(title: str, site: _Site) -> str:
    """A title with its leading and trailing parts that name the site dropped (all of it if nothing else is left)."""
    runs = _runs(title)
    if not runs:
        return title
    parts = {i: run for run, i, j in runs if i == j}
    first, last = _kept_span(runs, site, _is_site_part)
    kept = next(run for run, i, j in runs if i == first and j == last)
    # Still "Headline | Section | Site" with no name known: the headline is the part that holds
    # more words than all the others together (pipes only: a dash may well be the headline's own).
    inner = [parts[i] for i in range(first, last + 1)]
    longest = max(inner, key=lambda part: len(part.split()))
    if "|" in kept and len(inner) > 1 and 2 * len(longest.split()) > sum(len(part.split()) for part in inner):
        return longest
    return kept


def usable(title: str) -> bool:
    """A title text fit to be a headline: not empty, not markup, script or data a broken ``<title>`` swallowed."""
    return (
        bool(title)
        and len(title) <= TITLE_MAX_CHARS
        and len(_CODE.findall(title)) < 3
        and not _DATA.match(title)
    )


# A JSON object or array where a title should be ('{"businessUnitDisplayName":…}' in a review page's JSON-LD).
_DATA = re.compile(r"^\s*[\[{]\s*[\"'\[{]")
# Marks that stand alone between a headline and a site's name: one left at either end dangles.
_SEPARATOR_MARKS = frozenset("|-–—»«•·/~:")


_QUOTE_PAIRS = {"«": "»", "»": "«"}  # French and German guillemets, either way round


def _opens_quote(words: list[str], start: int, end: int) -> bool:
    """Whether the guillemet at ``start`` opens a quotation the title closes ("« Il y a … »"), not a separator."""
    mark = _QUOTE_PAIRS.get(words[start])
    return mark is not None and any(mark in word for word in words[start + 1 : end])


def _closes_quote(words: list[str], start: int, end: int) -> bool:
    mark = _QUOTE_PAIRS.get(words[end - 1])
    return mark is not None and any(mark in word for word in words[start : end - 1])


def _tidy(title: str) -> str:
    """The title without separators dangling at either end ("Headline -" once the site's name
    after it is gone). Word by word, not a regex: a pattern anchored at the end is retried from
    every position, quadratic on a long run of separators."""
    words = title.split()
    start, end = 0, len(words)
    while start < end and words[start] in _SEPARATOR_MARKS and not _opens_quote(words, start, end):
        start += 1
    while end > start and words[end - 1] in _SEPARATOR_MARKS and not _closes_quote(words, start, end):
        end -= 1
    return " ".join(words[start:end])


def headline(
    doc: lxml.html.HtmlElement,
    url: str,
    *,
    jsonld: str = "",
    declared: Iterable[str] = (),
    site_names: Iterable[str] = (),
    listed: str = "",
) -> str:
    """The article's headline, or "" when the page names none (see :func:`_headline`), without a
    separator left dangling at either end."""
    jsonld = clean_text(html.unescape(jsonld)) if "&" in jsonld else jsonld  # "Headline &raquo; Site"
    chosen = _tidy(
        _headline(
            doc,
            url,
            jsonld=jsonld if usable(jsonld) else "",
            declared=declared,
            site_names=site_names,
            listed=listed,
        )
    )
    return _kicked_headlines(doc).get(_norm(chosen), chosen)


# The title a share link hands its service ("digg.com/submit?url=…&title=Headline", "…&t=Headline").
_SHARED_TITLE = re.compile(r"[?&](?:title|t)=([^&'\"]+)")
SHARE_LINKS_READ = 300


def _shared_titles(doc: lxml.html.HtmlElement) -> list[str]:
    """The titles the page's share links give its article, most shared first: a last witness on a
    page whose ``<title>`` names only the site, or that has none (still only what the page shows wins)."""
    counts: dict[str, int] = {}
    for href in doc.xpath("//a/@href")[:SHARE_LINKS_READ]:
        match = _SHARED_TITLE.search(str(href))
        if match:
            text = clean_text(unquote_plus(match.group(1)))
            if usable(text) and len(_norm(text).split()) >= 2:
                counts[text] = counts.get(text, 0) + 1
    return sorted(counts, key=lambda text: -counts[text])


# Skipped as the text after a heading: link texts (menus, lists of other stories) and non-prose.
_NOT_PROSE = frozenset({"a", "script", "style", "option", "noscript", "select", "button"})
# The story a heading leads has at least this much prose after it (characters, link texts aside).
STORY_MIN_CHARS = 400
STORY_TEXT_READ = 2000
# Words this long carry a text's content ("rushing", "Anelka"); shorter ones are mostly function words.
_CONTENT_WORD = 4


def _content_words(text: str) -> set[str]:
    return {w for w in _norm(text).split() if len(w) >= _CONTENT_WORD and not w.isdigit()}


def _is_heading(element: lxml.html.HtmlElement) -> bool:
    if element.tag in ("h1", "h2", "h3"):
        return True
    named = " ".join(element.get(k, "") for k in ("class", "id", "itemprop"))
    return bool(named and _HEADING_CLASS.search(named)) and not element.xpath(_HOLDS_BLOCKS)


def _worded(words: list[str]) -> bool:
    """Whether a heading's words say something: two of three letters or more, not a date ("28. Jan. 2022")."""
    return sum(1 for w in words if len(w) >= 3 and not w.isdigit()) >= 2


def _story_heading(doc: lxml.html.HtmlElement, site: _Site) -> tuple[str, dict[str, int], str]:
    """The heading that leads the page's longest run of prose, with the length of every heading's
    run and that one's opening text: the story's own heading, where a ``<title>`` names only the site or a section.

    One walk in document order: each heading of three words or more opens a run, and the text
    after it (link texts aside) counts towards that run until the next such heading."""
    body = doc.find("body")
    if body is None:
        return "", {}, ""
    runs: dict[str, list[str]] = {}
    lengths: dict[str, int] = {}  # every character of prose after the heading
    read: dict[str, int] = {}  # the characters kept in its opening text
    current: str | None = None
    current_tag = ""
    skipped = 0  # depth inside a heading, a link or a script
    for event, element in lxml.etree.iterwalk(body, events=("start", "end")):
        if not isinstance(element.tag, str):  # a comment's text is not the page's; its tail is
            if (
                event == "end"
                and not skipped
                and current is not None
                and element.tail
                and element.tail.strip()
            ):
                _add_prose(element.tail.strip(), current, runs, lengths, read)
            continue
        if event == "start":
            if skipped:
                skipped += 1
                continue
            if element.tag in _NOT_PROSE:
                skipped = 1
                continue
            if _is_heading(element):
                text = _heading_text(element)
                words = _norm(text).split()
                if (
                    3 <= len(words) <= HEADING_MAX_WORDS
                    and _worded(words)
                    and usable(text)
                    and not _is_site_part(text, site)
                ):
                    if (
                        current is not None
                        and current_tag == "h1"
                        and element.tag != "h1"
                        and not lengths[current]
                    ):
                        skipped = 1  # "<h1>Headline</h1><h2>Standfirst</h2>": the story is the <h1>'s
                        continue
                    current, current_tag = text, element.tag
                    runs.setdefault(current, [])
                    lengths.setdefault(current, 0)
                    read.setdefault(current, 0)
                    skipped = 1
                    continue
            if current is not None and element.text and element.text.strip():
                _add_prose(element.text.strip(), current, runs, lengths, read)
        else:
            if skipped:
                skipped -= 1
            if not skipped and current is not None and element.tail and element.tail.strip():
                _add_prose(element.tail.strip(), current, runs, lengths, read)
    if not lengths:
        return "", {}, ""
    best = max(lengths, key=lambda h: lengths[h])
    return best, lengths, " ".join(runs[best])


def _add_prose(
    text: str, heading: str, runs: dict[str, list[str]], lengths: dict[str, int], read: dict[str, int]
) -> None:
    lengths[heading] += len(text)
    if read[heading] < STORY_TEXT_READ:
        runs[heading].append(text)
        read[heading] += len(text)


def _names_only_site(title: str, story: str, story_text: str, site: _Site) -> bool:
    """Whether a chosen title names only the site or a section, not the story the page shows:
    it shares no content word with the story's heading, and few with the story's text."""
    if _is_site_part(title, site):
        return True  # "Morris Daily Herald" on morrisdailyherald.com
    words = _content_words(title) - {w for name in site.names for w in name.split()} - {site.label}
    if words & _content_words(story):
        return False
    if not words:
        return True
    return 2 * len(words & _content_words(story_text)) < len(words)


# A heading that is a link, over less than a tenth of the prose the story's heading leads, names a
# section or the site ("News Update Service" linking to the section's index), not the story.
STORY_LEAD_RATIO = 10


def _leads_little(chosen: str, story: str, lengths: dict[str, int]) -> bool:
    """Whether the heading that shows a chosen title leads little prose beside the story's heading."""
    norm = _norm(chosen)
    own = max((n for heading, n in lengths.items() if _norm(heading) == norm), default=0)
    return STORY_LEAD_RATIO * own < lengths[story]


def _headline(
    doc: lxml.html.HtmlElement,
    url: str,
    *,
    jsonld: str = "",
    declared: Iterable[str] = (),
    site_names: Iterable[str] = (),
    listed: str = "",
) -> str:
    """The article's headline (see :func:`_declared_headline`), or the heading that leads the
    page's story where that names only the site or a section ("Winona Daily News - 6.0")."""
    h1s = {_norm(_heading_text(h)) for h in doc.iter("h1")}
    site = _site(
        url,
        [
            n
            for n in [*site_names, *_home_link_names(doc)]
            if len(_norm(n).split()) < HEADLINE_AS_SITE_WORDS or _norm(n) not in h1s
        ],
    )
    shown = _shown_texts(doc, url)
    chosen = _declared_headline(doc, site, shown, jsonld=jsonld, declared=declared, listed=listed)
    if jsonld:
        return chosen
    story, lengths, text = _story_heading(doc, site)
    if not story or lengths[story] < STORY_MIN_CHARS or _norm(story) == _norm(chosen):
        return chosen
    if listed and chosen == clean_text(listed):
        return chosen  # the feed's title for the story, shown on the page
    if _norm(chosen) in {_norm(h) for h in shown.headings} and not (
        _norm(chosen) in shown.linked and _leads_little(chosen, story, lengths)
    ):
        return chosen  # the page shows it as a heading of its own, unless only as a link over little prose
    text_words = _content_words(text)
    if 3 * len(_content_words(story) & text_words) < len(_content_words(story)):
        return chosen  # "Don't miss", a date: a heading whose words the text after it does not use
    if _names_only_site(chosen, story, text, site):
        return story
    return chosen


def _declared_h1(candidates: list[str], h1s: list[str], site: _Site) -> str:
    """A declared title (``og:title``, ``twitter:title``…) that is word for word one of the page's
    ``<h1>``: two places agreeing on the headline, which beats a JSON-LD ``headline`` that says
    something else (an SEO headline, the story without its kicker) and a site's name that the
    headline happens to hold ("Wir sind NEOS" on neos.eu)."""
    shown = {_norm(h) for h in h1s}
    for text in candidates:
        norm = _norm(text)
        if len(norm.split()) >= 2 and norm in shown and usable(text) and not _names_site(text, site):
            return _trimmed(text, site)
    return ""


def _unkicked(h1: str, titles: list[str], site: _Site) -> str:
    """The page's one ``<h1>``, or the declared title it ends with: an ``<h1>`` that puts a kicker
    before the headline with no separator ("<span>Investitionen in IT-Sicherheit</span> Cyber-Angriffe: …")
    beside declared titles that give the headline alone."""
    norm = _norm(h1)
    for text in titles:
        headline = _without_site(text, site) if usable(text) else ""
        key = _norm(headline)
        if len(key.split()) >= 3 and norm.endswith(" " + key):
            return headline
    return h1  # the page's one headline, beside a declared title that is only a section's name


def _declared_headline(
    doc: lxml.html.HtmlElement,
    site: _Site,
    shown: _Shown,
    *,
    jsonld: str = "",
    declared: Iterable[str] = (),
    listed: str = "",
) -> str:
    """The article's headline, or "" when the page names none.

    ``jsonld`` is the article's JSON-LD ``headline`` (its publisher's own field for it, taken as
    it is unless cut short with an ellipsis); ``declared`` the ``og:title``-like values, best first;
    ``listed`` the title the feed or listing that linked to the page gave it, which wins over the
    ``<title>`` when the page shows it too.
    """
    h1s = [h for h in (_heading_text(h) for h in doc.iter("h1")) if usable(h)]
    candidates = [clean_text(t) for t in declared if 0 < len(clean_text(t)) <= TITLE_MAX_CHARS]
    tag_title = clean_text(doc.findtext(".//title"))
    agreed = _declared_h1(candidates, h1s, site)
    if agreed:
        return agreed
    if jsonld and len(jsonld) <= TITLE_MAX_CHARS:
        stem = jsonld.rstrip(".… ")
        if stem != jsonld:  # "Headline cut at 110 charac…": a longer telling elsewhere wins
            longer = [c for c in [*candidates, *shown.headings] if c.startswith(stem) and len(c) > len(stem)]
            if longer:
                return _confirmed(longer[0], shown, site) or longer[0]
        # "Kicker - Headline" declared, the headline alone shown: the part the page confirms.
        confirmed = _confirmed(jsonld, shown, site)
        if confirmed:
            return confirmed
        if (
            len(h1s) == 1
            and len(_norm(h1s[0]).split()) >= 3
            and _norm(jsonld) not in _norm(h1s[0])  # "Kicker Headline" in one <h1>: the headline is JSON-LD's
            and not _is_site_part(h1s[0], site)
        ):
            return h1s[0]  # a JSON-LD headline the page shows nowhere, beside the page's one <h1>
        return _without_site(jsonld, site)
    listed = clean_text(listed)
    lone_h1 = h1s[0] if len(h1s) == 1 and len(_norm(h1s[0]).split()) >= 2 else ""
    for text in [
        *candidates,
        *([listed] if usable(listed) else []),
        *([tag_title] if usable(tag_title) else []),
        *_shared_titles(doc),
    ]:
        if _is_site_part(text, site) and not _runs(text)[1:]:
            continue  # only the site's name ("Press corner" on every page of an app)
        confirmed = _confirmed(text, shown, site)
        if confirmed:
            # A <title> cut short ("Neue Öffnungszeiten der Bibliothek" for the <h1>'s "… ab April").
            longer = [h for h in h1s if _norm(h).startswith(_norm(confirmed) + " ")]
            if len(longer) == 1:
                return longer[0]
            if len(_norm(confirmed).split()) <= 2 and len(_norm(lone_h1).split()) >= 3 and text is tag_title:
                return lone_h1  # "Written statements", a section's name, beside the page's one headline
            return confirmed
    # Nothing the page shows confirms a declared title: the first heading that shares words with
    # one (a <title> cut short), else the declared title without the parts naming the site.
    # (The site's name is no shared word: a menu's "-- CSTV.COM FEATURES --" is not "CSTV.com: #1 in …".)
    words = {w for text in [*candidates, tag_title] for w in _content_words(_without_site(text, site))}
    if lone_h1 and _content_words(lone_h1) & words and not _is_site_part(lone_h1, site):
        return _unkicked(lone_h1, [*candidates, tag_title], site)
    for heading in shown.headings:
        norm = _norm(heading).split()
        if (
            usable(heading)
            and len(norm) >= 3
            and _content_words(heading) & words
            and not _is_site_part(heading, site)
        ):
            return heading
    if (
        not candidates
        and len(_norm(tag_title).split()) <= 2
        and len(_norm(lone_h1).split()) >= 3
        and not _is_site_part(lone_h1, site)
    ):
        return lone_h1  # a <title> of a word or two ("Home") the page does not show, beside its one headline
    for text in [*candidates, *([tag_title] if usable(tag_title) else [])]:
        if not _is_site_part(text, site):
            return _without_site(text, site)
    if len(h1s) == 1:
        return h1s[0]
    return next((t for t in [*candidates, tag_title] if usable(t)), "")
