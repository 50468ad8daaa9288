"""Who wrote an article: the people its page names, in order, without publishers, roles or page furniture.

Sources, best first, the first that names someone wins:

1. JSON-LD ``author``/``creator`` (a string, an object, a list, an ``@id`` reference), people only:
   an ``Organization`` (the publisher named as author) is no byline; where the meta tags start with
   the same people and name more, their fuller list;
2. meta tags: ``author``, ``article:author`` (not a profile URL), ``dc.creator``, ``parsely-author``…,
   unless the page never shows their names while its byline shows other people;
3. markup naming the author: ``itemprop=author`` (its ``itemprop=name`` when it has one), ``rel=author``;
4. a visible byline: an element whose class or id says byline or author (in the languages news is
   written in: ``byline``, ``author``, ``autor``, ``auteur``, ``posted-by``…), the first that names someone;
5. a link to an author's page (``/author/jane-doe``, ``/autoren/gathmann-moritz``) that names a person;
6. a line of page furniture that starts with a byline label: "Von Jane Doe", "Autor: Jane Doe",
   "Text: A, B und C", "<h5>Autor:</h5> Jane Doe", "Par <a>Jane Doe</a>" (not in a heading, a link or the
   navigation);
7. a paragraph that holds only a bold or italic name, with no more text after it (a signature under the article).

Meta tags include Twitter's card pair ``twitter:labelN`` "Verfasst von"/"Written by" → ``twitter:dataN``.

Each value is cut into names: "By A and B", "A, B and C", "Von A und B", "Par A et B"; a lead-in
("Veröffentlicht von", "Publié par"), a job title ("Political Correspondent Carl Dinnen",
"A, Reporter"), an email, a handle, a date or a parenthesis goes; a CMS login ("admin",
"Super User"), an organisation ("BBC News"), a site's address ("tagesschau.de") or the site's own
name ("Automobilwoche" on automobilwoche.de, "El Colombiano" on elcolombiano.com) is no name.

About 620 lines, longer than most modules: the seven sources share one name cutter and one list of
what is no name, and each source's rule is only right after the ones above it, so they stay in order
in one place.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import lxml.etree
import lxml.html

from ._text import clean_text, links_elsewhere, unescape_text

# More names than this in one byline is a list of other stories' authors, not this one's.
MAX_AUTHORS = 8
# A byline element with more text than this is an author's biography or a whole teaser.
BYLINE_MAX_CHARS = 160
# An author value longer than this is no list of names; the rest is not read (bounds every pattern's work).
AUTHOR_VALUE_MAX_CHARS = 2_000

# What a post is, said before whose it is ("Ein Beitrag von", "Gastbeitrag von", "A guest post by",
# "Pressemitteilung von"): a byline's label, as is Drupal's "Gespeichert von".
# (Written out in _LEAD and _LABELLED too: the regex-bounds test reads literals; the asserts keep them in step.)
_POST_BY = re.compile(
    r"(?:(?:ein|eine|a|an)\s+)?(?:blog\s*-?\s*)?(?:gast-?|guest\s+)?"
    r"(?:beitrag|artikel|post|article|story|pressemitteilung|kommentar)\s+(?:von|by)"
    r"|(?:gespeichert|verfasst|geschrieben|veröffentlicht)\s+von",
    re.I,
)
_LEAD = re.compile(
    r"^(?:(?:written|posted|reported|published|created|words|text|story|photos?)\s+by|"
    r"(?:(?:ein|eine|a|an)\s+)?(?:blog\s*-?\s*)?(?:gast-?|guest\s+)?"
    r"(?:beitrag|artikel|post|article|story|pressemitteilung|kommentar)\s+(?:von|by)"
    r"|(?:gespeichert|verfasst|geschrieben|veröffentlicht)\s+von|(?:erstellt|gepostet|eingestellt)\s+von|"
    r"(?:publié|écrit|rédigé)\s+par|(?:publicado|escrito)\s+por|by|von|par|por|door|di|da|av|af|"
    r"auteur|autor(?:in)?|author|text|texte|reportage|interview)\b\s*[:\-–—]?\s*",
    re.I,
)
# No \s* around the separators (a long run of spaces made that quadratic): parts are stripped after.
_SPLIT = re.compile(
    r"(?:,|;|\||/|[\u3001\uff0c\uff1b]|\s(?:and|und|et|y|e|en|og|och|i|&|with|mit|avec)\s)", re.I
)
# A job title in a byline ("By Political Correspondent Carl Dinnen", "technology reporter Ange Lavoipierre").
_ROLE = re.compile(
    r"\b(?:correspondent|editor|reporter|writer|journalist|producer|presenter|analyst|columnist|"
    r"contributor|staff|desk|team|news|korrespondent(?:in)?|redakteur(?:in)?|journalistin|"
    r"journaliste|rédacteur|rédactrice|periodista|redactor[a]?|experte|expert)s?\b",
    re.I,
)
# Words that name an organisation, not a person ("BBC News", "eSafety Commissioner", "Reuters Staff").
_ORG_WORD = re.compile(
    r"\b(?:news|press|media|newsroom|staff|desk|team|editors|reporters|authority|commission|commissioner|"
    r"office|department|ministry|agency|council|board|committee|group|ltd|limited|inc|plc|llc|gmbh|ag|"
    r"government|regulator|services?|university|institute|foundation|association|bureau|kitchens?|"
    r"online|redaktion|rédaction|redacción|agencies|agenturen|zeitung|verlag|magazine?|"
    r"departement|abteilung|feuerwehr|verein|e\.\s?v|amt|"
    # German compounds: "Bundesministerium für Wirtschaft und Klimaschutz", "Bundesverband WindEnergie".
    r"\w*(?:ministerium|verband|fraktion|stiftung|gesellschaft|behörde|institut|bundesamt|landesamt))\b",
    re.I,
)
# A value ending with a country is an organisation ("Diakonie Deutschland") or an imprint's address
# ("GIROMATCH, Frankfurt a. M., Germany"): no one's name ends so (unlike France or Holland, left out).
_ENDS_WITH_COUNTRY = re.compile(
    r"\b(?:germany|deutschland|austria|österreich|switzerland|schweiz|suisse|svizzera|usa|"
    r"united states|united kingdom|italia|españa|nederland|belgique|belgië|danmark|sverige|norge|polska)"
    r"\W*$",
    re.I,
)
# Logins and labels a CMS prints where a name would be.
_NOT_A_NAME = frozenset(
    {
        "admin",
        "administrator",
        "super user",
        "superuser",
        "webmaster",
        "editor",
        "guest",
        "user",
        "username",
        "anonymous",
        "name",
        "posted",
        "author",
        "autor",
        "auteur",
        "redaktion",
        "unknown",
        "view my complete profile",
        "more articles",
        "follow",
        "follow author",
        "link copied",
        "copy link",
        "read more",
        # an advertisement's label in a byline's place (a forum's "Sponsored content" post)
        "sponsored",
        "sponsored content",
        "advertisement",
        "gesponserte inhalte",
        "anzeige",
    }
)
_NOISE = re.compile(
    r"[^\s@]{1,64}@[^\s@]{1,253}\.\w+|https?://\S+|www\.\S+|@\w+|\([^()]{0,200}\)|\[[^\[\]]{0,200}\]|"
    r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b|\b\d{1,2}:\d{2}(?:\s*(?i:[ap]\.?m\.?))?(?:\s+(?:[A-Z]{1,3}T|UTC|GMT))?\b"
)
# Words of an account's label, never of a name ("Guest author", "Site admin", "Anonymous user").
_GENERIC = frozenset(
    {
        "author",
        "user",
        "admin",
        "administrator",
        "guest",
        "unknown",
        "anonymous",
        "member",
        "webmaster",
        "account",
    }
)
# A site's address where a name would be ("tagesschau.de", "jungle.world") is the publisher, not a person.
_DOMAIN = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}$", re.I)
_NAME_WORD = re.compile(r"^[\w'’.\-]+$")
_PARTICLE = frozenset(
    {"de", "da", "del", "der", "den", "van", "von", "la", "le", "al", "bin", "ibn", "di", "du", "dos", "zu"}
)

_AUTHOR_MARKUP = '//*[@itemprop="author"]|//*[@rel="author" or contains(concat(" ", normalize-space(@rel), " "), " author ")]'
_BYLINE_NAMES = (
    "byline",
    "author",
    "autor",
    "auteur",
    "posted-by",
    "postedby",
    "writer",
    "verfasser",
    "firma",
)
# A literal, so the regex-bounds test can read it; the assert keeps it in step with the names.
_BYLINE_NAMED = re.compile("byline|author|autor|auteur|posted-by|postedby|writer|verfasser|firma")
assert _BYLINE_NAMED.pattern == "|".join(_BYLINE_NAMES)
_NOT_BYLINE_TAGS = frozenset({"meta", "link", "script", "style", "img", "body", "html"})
# A quotation's attribution ("ecl-blockquote__author") or a comment's author is not the article's byline.
_QUOTED = "ancestor-or-self::*[self::blockquote or self::q or self::figure or contains(@class, 'quote') or contains(@class, 'comment')]"


def _byline_nodes(doc: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """Elements whose class, id or test id says byline or author, in document order."""
    nodes = []
    for element in doc.iter():
        if not isinstance(element.tag, str) or element.tag in _NOT_BYLINE_TAGS:
            continue
        named = " ".join(v for k in ("class", "id", "data-testid") if (v := element.get(k))).lower()
        if named and _BYLINE_NAMED.search(named) and not element.xpath(_QUOTED):
            nodes.append(element)
    return nodes


# A Chinese, Japanese or Korean name: written without capitals, and without a space between family
# and given name ("松村太郎", "김철수"), so one "word" of two to eight characters.
_CJK_NAME = re.compile(r"^[\u3005\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u30fb\u00b7]{2,8}$")
# A job title written before or after such a name ("記者 张三", "홍길동 기자"); "text:" before it
# ("文：松村太郎") only with its colon or slash, as 文 also starts and ends names ("文在寅", "王文").
_CJK_ROLED = re.compile(
    r"^(?:(?:記者|记者|기자|特派員|特派员|특파원|編集委員|编辑|編輯|作者|通訊員|通讯员|寄稿)\s*[:：/／]?\s*"
    r"|(?:取材・文|撰文|文)\s*[:：/／]\s*)?"
    r"(?P<name>.+?)(?:\s*(?:記者|记者|기자|特派員|特派员|특파원|編集委員|通訊員|通讯员))?$"
)
# What such a "name" is when it names a desk or a publisher ("編集部", "新聞社", "ZDNet Japan 스태프").
_CJK_ORG = re.compile(
    "編集部|编辑部|편집부|編集局|新聞|新闻|日報|日报|通信社|通讯社|報道|报道|放送|ニュース|뉴스|신문|일보|"
    "スタッフ|스태프|取材|撰文|記者|记者|기자|编辑|編集"
)


def _cjk_name(part: str) -> str | None:
    """A CJK name in a byline part, its job title dropped; "" for a CJK desk or publisher; None
    for a part in no CJK script."""
    match = _CJK_ROLED.match(part.strip())
    name = match["name"].strip() if match else ""
    if not _CJK_NAME.match(name):
        return None
    return "" if _CJK_ORG.search(name) else name


def _lower_case_surname(words: list[str]) -> bool:
    """Whether words may be a name written with a lower-case surname ("Mobasir hassan"), as markup (a
    meta tag, JSON-LD) gives it: a capitalised first word, three words at most, none an account's label."""
    return words[0][0].isupper() and len(words) <= 3 and not _GENERIC & {w.lower() for w in words}


def _person_name(part: str, *, strict: bool) -> str:
    """One name from one part of a byline, or "" when the part names no one.

    ``strict``: the text comes from a visible byline, where a name is two to five capitalised
    words; markup that says "this is the author" may also hold a login-like single word.
    """
    if (cjk := _cjk_name(part)) is not None:
        return cjk
    part = _LEAD.sub("", part.strip(" .,:;-–—·•|→«»\"'")).strip(" .,:;-–—·•|→«»\"'")
    roles = list(_ROLE.finditer(part))
    if roles:  # "Political Correspondent Carl Dinnen": the name follows the title; "Carl Dinnen Reporter": precedes it
        after = part[roles[-1].end() :].strip(" ,:")
        before = part[: roles[0].start()].strip(" ,:")
        if len(after.split()) < 2 and _ORG_WORD.search(part):
            return ""  # "BBC News", "Reuters Staff": an organisation, not a title before a name
        part = after if len(after.split()) >= 2 else before
    words = part.split()
    if not words or len(words) > 5 or len(part) > 60 or any(ch.isdigit() for ch in part):
        return ""
    if part.lower() in _NOT_A_NAME or _ORG_WORD.search(part) or not all(_NAME_WORD.match(w) for w in words):
        return ""
    if len(words) > 1 and words[-1].lower() in _PARTICLE:
        return ""  # "Rezept von" (its login dropped): a label, as no name ends with "von" or "de"
    capitalised = [w for w in words if w[0].isupper()]
    if len(words) == 1:
        if strict or "_" in part or _DOMAIN.match(part):
            return ""
        return part
    lower_case = len(capitalised) + sum(w.lower() in _PARTICLE for w in words) < len(words)
    if lower_case and not part.islower() and (strict or roles or not _lower_case_surname(words)):
        return ""  # a phrase ("deinen Hochzeitsbloggern"), not a name
    if part.islower() and strict:
        return ""
    return part


def names_in(values: Iterable[object], *, strict: bool = False) -> list[str]:
    """The person names a set of byline values give, in order, each once."""
    names: list[str] = []
    seen: set[str] = set()
    for value in values:
        text = unescape_text(value)[:AUTHOR_VALUE_MAX_CHARS]
        if not text or text.startswith(("http://", "https://", "/")) or _ENDS_WITH_COUNTRY.search(text):
            continue
        text = _NOISE.sub(" ", text)
        text = _LEAD.sub("", text.strip())
        found: list[str] = []
        for part in _SPLIT.split(text):
            name = clean_text(_person_name(part, strict=strict))
            if not name and _ORG_WORD.search(part):
                break  # "Nada Tawfik, BBC News, New York": after the publisher, its desk or the dateline
            if name:
                found.append(name)
        if len(found) > 1 and all(" " not in name and not _CJK_NAME.match(name) for name in found):
            continue  # one word each side of "&", "," or "/": a place, a brand, a desk's code, not people
        for name in found:
            if name.lower() not in seen:
                seen.add(name.lower())
                names.append(name)
    return names


def _types(obj: dict[str, Any]) -> set[str]:
    value = obj.get("@type", [])
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1].lower() for v in values if v}


def is_organisation(obj: dict[str, Any]) -> bool:
    """Whether a JSON-LD object is an organisation: one typed Person too (a personal site's owner,
    ``["Person", "Organization"]`` in Yoast's graph) is a person."""
    types = _types(obj)
    return "person" not in types and any(
        "organization" in t or t in ("corporation", "website", "brand") for t in types
    )


def _ld_name(item: Any) -> str:
    if isinstance(item, dict):
        item = item.get("name") or item.get("alternateName") or ""
        if isinstance(item, list):
            item = next((i for i in item if isinstance(i, str)), "")
    return clean_text(unescape_text(item)) if isinstance(item, str) else ""


def ld_people(value: Any, by_id: Mapping[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(people, organisations) a JSON-LD ``author`` names: a publisher named as author is no byline."""
    people: list[str] = []
    organisations: list[str] = []
    for item in _ld_authors(value, by_id):
        text = _ld_name(item)
        if text:
            (organisations if isinstance(item, dict) and is_organisation(item) else people).append(text)
    return people, organisations


def ld_site_owners(value: Any, by_id: Mapping[str, dict[str, Any]]) -> set[str]:
    """Names (lower case) of JSON-LD authors typed both Person and Organization: the person a personal
    site declares it is (Yoast's "this site represents a person"), whose name may well be the site's."""
    return {
        _ld_name(item).lower()
        for item in _ld_authors(value, by_id)
        if isinstance(item, dict) and {"person", "organization"} <= _types(item)
    }


def _ld_authors(value: Any, by_id: Mapping[str, dict[str, Any]]) -> Iterator[Any]:
    """Each item of a JSON-LD ``author`` value, a bare ``{"@id": ...}`` reference read from the graph."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict) and isinstance(item.get("@id"), str) and not item.get("name"):
            item = by_id.get(item["@id"], item)
        yield item


def _markup_names(doc: lxml.html.HtmlElement) -> list[str]:
    """Names in ``itemprop=author``/``rel=author`` markup: the first element naming someone, and its siblings."""
    found: list[str] = []
    parent = None
    for node in doc.xpath(_AUTHOR_MARKUP):
        if parent is not None and node.getparent() is not parent:
            continue
        named = node.xpath('.//*[@itemprop="name"]/@content|.//*[@itemprop="name"]')
        texts = [v if isinstance(v, str) else v.text_content() for v in named] or [node.text_content()]
        texts = [clean_text(t) for t in texts if len(clean_text(t)) <= BYLINE_MAX_CHARS]
        names = names_in(texts)
        if names:
            found.extend(n for n in names if n not in found)
            parent = node.getparent()
    return found


_BLOCKS = frozenset({"br", "p", "div", "li", "time", "span", "small", "ul", "section", "header"})


def _lines(
    node: lxml.html.HtmlElement, blocks: frozenset[str] = _BLOCKS, *, source_breaks: bool = True
) -> list[str]:
    """A byline's text, one line per line break or block it holds ("By Nathan Willis<br>March 25, 2015").

    With ``source_breaks`` a line break in the HTML source's text ends a line too: a byline's name and
    what follows are often written on lines of their own. Without, it is a space, as a browser shows it."""
    space = "\n" if source_breaks else " "
    pieces: list[str] = []

    def walk(element: lxml.html.HtmlElement) -> None:
        block = isinstance(element.tag, str) and element.tag in blocks
        if block:
            pieces.append("\n")
        if isinstance(element.tag, str) and element.text and element.tag not in ("script", "style"):
            pieces.append(element.text.replace("\n", space))
        for child in element:
            walk(child)
        if block:
            pieces.append("\n")
        if element.tail and element is not node:
            pieces.append(element.tail.replace("\n", space))

    walk(node)
    return [line for line in (clean_text(x) for x in "".join(pieces).split("\n")) if line]


_HCARD_NAME = './/*[contains(concat(" ", normalize-space(@class), " "), " fn ")]'


def _runs_on(names: list[str], by_line: list[str]) -> bool:
    """Whether names read from a byline's whole text run on into its next line: "Jane Doe Alle Artikel"
    where "Jane Doe" is a line of its own and "Alle Artikel" a link under it."""
    return (
        bool(by_line)
        and all(any(name.startswith(line + " ") for line in by_line) for name in names if name not in by_line)
        and any(name not in by_line for name in names)
    )


_HEADINGS = lxml.etree.XPath(".//h1|.//h2|.//h3|.//h4")


def _headline_first(heading: lxml.html.HtmlElement) -> tuple[str, int]:
    return str(heading.tag), -len(clean_text(heading.text_content()))  # "h1" < "h2"; the longest of a rank


def _teaser_test(url: str) -> Callable[[lxml.html.HtmlElement], bool]:
    """A test of whether a byline signs another story's teaser ("Related Content": a linked headline,
    then "By Caitlin Clark"): the headline of the nearest block around it that holds a heading links
    elsewhere. That headline is the block's longest heading of the highest rank: a kicker is shorter
    or set smaller, and so is a columnist's name set as a heading or a section's name above the
    page's ``<h1>``. Each block is looked at once per page (bylines share their blocks)."""
    headline_links: dict[lxml.html.HtmlElement, bool | None] = {}  # None: the block holds no heading

    def block_answer(block: lxml.html.HtmlElement) -> bool | None:
        if block not in headline_links:
            headings = _HEADINGS(block)
            headline_links[block] = (
                links_elsewhere(min(headings, key=_headline_first), url) if headings else None
            )
        return headline_links[block]

    def signs_a_teaser(node: lxml.html.HtmlElement) -> bool:
        for ancestor in node.iterancestors():
            if ancestor.tag in ("body", "html", "main"):
                return False
            answer = block_answer(ancestor)
            if answer is not None:
                return answer
        return False

    return signs_a_teaser


def _byline_names(
    doc: lxml.html.HtmlElement,
    signs_a_teaser: Callable[[lxml.html.HtmlElement], bool],
    *,
    teasers: bool = False,
) -> list[str]:
    """Names in the first visible byline that names someone, read line by line ("By" alone on its line
    joins the next); with ``teasers``, only bylines under other stories' linked headlines are read, else
    only the others.

    An author hCard (``class="author vcard"`` with its ``fn``) names its author as the site shows
    them, even by one word ("Heiko", a blog's pen name), as markup that says "this is the author" does.
    """
    for node in _byline_nodes(doc):
        if signs_a_teaser(node) != teasers:
            continue
        if "vcard" in (node.get("class") or "").lower().split():
            names = names_in([clean_text(fn.text_content()) for fn in node.xpath(_HCARD_NAME)[:MAX_AUTHORS]])
            if names:
                return names
        text = clean_text(node.text_content())
        if not text or len(text) > BYLINE_MAX_CHARS:
            continue
        names = names_in([text], strict=True)
        lines = _lines(node)
        if not names or len(lines) > 1:
            joined = [
                f"{a} {b}" for a, b in zip(lines, lines[1:], strict=False) if not _LEAD.sub("", a).strip()
            ]
            by_line = names_in([*lines, *joined], strict=True)
            if not names:
                names = by_line
            elif _runs_on(names, by_line):  # the lines that start the names read whole
                names = [n for n in by_line if any(w == n or w.startswith(n + " ") for w in names)]
        if names:
            return names
    return []


# A link to an author's page ("/autoren/gathmann-moritz", "/author/jane-doe/"): the site saying who wrote it.
_AUTHOR_PAGE = re.compile(
    r"/(?:authors?|autor(?:en)?|auteurs?|autore?s?|journalist(?:en)?|redakteur)/[^/?#]+", re.I
)


def _author_page_names(
    doc: lxml.html.HtmlElement,
    signs_a_teaser: Callable[[lxml.html.HtmlElement], bool],
    *,
    teasers: bool = False,
) -> list[str]:
    """Names of the first link to an author's page that names a person, with the links beside it
    (co-authors); ``teasers`` as for :func:`_byline_names`."""
    parent = None
    found: list[str] = []
    for link in doc.iter("a"):
        if (
            not _AUTHOR_PAGE.search(link.get("href") or "")
            or (parent is not None and link.getparent() is not parent)
            or signs_a_teaser(link) != teasers
        ):
            continue
        text = clean_text(link.text_content())
        if len(text) > BYLINE_MAX_CHARS or link.xpath(_QUOTED):
            continue
        # A photo's credit may come first in the link ("© Jane Doe", then "Jane Doe"): its lines, one by one.
        names = names_in([text], strict=True) or names_in(_lines(link, source_breaks=False), strict=True)
        if names:
            found.extend(n for n in names if n not in found)
            parent = link.getparent()
    return found[:MAX_AUTHORS]


# A line that says who wrote the page by its first words: "Von Jane Doe", "Autor: Jane Doe", "Text: …".
_LABELLED = re.compile(
    r"^(?:(?:von|by|par|por|door)(?:\s+(?=\w)|$)|(?:written|posted|submitted)\s+by\s*:?\s*|"
    r"(?:(?:(?:ein|eine|a|an)\s+)?(?:blog\s*-?\s*)?(?:gast-?|guest\s+)?"
    r"(?:beitrag|artikel|post|article|story|pressemitteilung|kommentar)\s+(?:von|by)"
    r"|(?:gespeichert|verfasst|geschrieben|veröffentlicht)\s+von)(?:\s+|$)|"
    r"(?:autor(?:in|en)?|authors?|auteur|text|texte|redaktion|verfasser(?:in)?)\s*:\s*|"
    # a German label before the name without a colon ("Autoren Jelko Djuren und Jutta Klaukien")
    r"(?:autor(?:in|en)?|verfasser(?:in)?)\s+(?=(?-i:[A-ZÄÖÜ]))|"
    # the label alone on its line, without a colon (an <h4>Autor</h4> over the name)
    r"(?:autor(?:in|en)?|authors?|auteur|verfasser(?:in)?)$)",
    re.I,
)
assert _POST_BY.pattern in _LEAD.pattern and _POST_BY.pattern in _LABELLED.pattern
# A label set as a small heading ("<h5>Autor:</h5> Jane Doe") is a line of its own.
_LABEL_BLOCKS = _BLOCKS | {"h4", "h5", "h6", "dt", "dd", "td", "address"}
# What stands before a label in a line of page furniture ("05.02.2020 - Redaktion: Jane Doe").
_DASHES = " \t\n\xa0-–—|·•"
# The next label on the same line ("Autor: Jane Doe Tags: …", "Autor: Jane Doe Lesezeit: 5 min") ends the
# name, as does the day it was written ("Gespeichert von Jane Doe am 24. Juli 2017", "… on 3 May").
_NEXT_LABEL = re.compile(r"\s\w+:(?:\s|$)|\s(?:am|on)\s+\d")
# Where a labelled line is someone else's: a heading (a title that starts "By…"), a link list, page furniture,
# a media credit.
_NOT_LABELLED = (
    "ancestor-or-self::*[self::h1 or self::h2 or self::h3 or self::nav or self::footer or self::a"
    # a photo's or video's credit ("By U.S. Customs and Border Protection" under a clip)
    " or contains(translate(@class, 'CREDIT', 'credit'), 'credit')]"
)


def _label_block(node: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """The block a label belongs to: "<strong>Autor:</strong> <a>Jane Doe</a>" names no one in the label's element."""
    for _ in range(2):
        parent = node.getparent()
        if parent is None or _LABELLED.sub("", clean_text(node.text_content())):
            break
        node = parent
    return node


def _labelled_lines(doc: lxml.html.HtmlElement) -> Iterable[str]:
    """Lines of the page's small blocks that start with a byline label, label and name together."""
    body = doc.find("body")
    for element in (body if body is not None else doc).iter():
        if not isinstance(element.tag, str) or element.tag in ("script", "style"):
            continue
        for text, holder in ((element.text, element), (element.tail, element.getparent())):
            if not text or holder is None or not _LABELLED.match(text.strip(_DASHES)):
                continue
            block = _label_block(holder)
            if len(clean_text(block.text_content())) > 2 * BYLINE_MAX_CHARS:
                continue
            if block.xpath(_QUOTED) or block.xpath(_NOT_LABELLED):
                continue
            lines = [line.strip(_DASHES) for line in _lines(block, _LABEL_BLOCKS)]
            following = next(block.itersiblings(tag=lxml.etree.Element), None)
            if following is not None and not following.xpath(_NOT_LABELLED):
                # "<div><p>By</p></div><div><p>Todd Bates</p></div>": the label's block ends before the name.
                lines += _lines(following, _LABEL_BLOCKS)[:1]
            for line, after in zip(lines, [*lines[1:], ""], strict=True):
                if _LABELLED.match(line):
                    rest = _LABELLED.sub("", line) or after  # "Autor:" alone on its line names the next
                    yield _NEXT_LABEL.split(rest, maxsplit=1)[0]


def _labelled_names(doc: lxml.html.HtmlElement) -> list[str]:
    """Names on the first line that says who wrote the page in words ("Von Jane Doe", "Autor: Jane Doe")."""
    for line in _labelled_lines(doc):
        names = names_in([line], strict=True)
        if names:
            return names
    return []


# A paragraph that is only a bold or italic name ("<p><b><i>Jane Doe</i></b></p>" under the text): the author signing.
_SIGNED = (
    "//p[not(ancestor::*[self::header or self::nav or self::footer or self::aside or self::figure or self::a"
    " or self::li or self::td or self::blockquote])][count(*) = 1][*[self::b or self::strong or self::em or self::i]]"
)
SIGNATURE_MAX_WORDS = 4
# A sibling after it with more text than this is the section a bold subheading opens.
SIGNATURE_AFTER_MAX_CHARS = 40


def _signed_names(doc: lxml.html.HtmlElement) -> list[str]:
    """The name in the first paragraph that holds nothing but a bold or italic name (a signature)."""
    for paragraph in doc.xpath(_SIGNED):
        text = clean_text(paragraph.text_content())
        if paragraph.text and paragraph.text.strip() or paragraph[0].tail and paragraph[0].tail.strip():
            continue  # the bold part of a sentence
        if not 2 <= len(text.split()) <= SIGNATURE_MAX_WORDS or paragraph.xpath(_QUOTED):
            continue
        following = paragraph.itersiblings(tag=lxml.etree.Element)
        if any(len(clean_text(after.text_content())) > SIGNATURE_AFTER_MAX_CHARS for after in following):
            continue  # text follows: a bold subheading, not a signature under the article
        names = names_in([text], strict=True)
        if len(names) == 1 and names[0] == text:
            return names
    return []


# Twitter's card pairs a label with a value; WordPress SEO plugins put the author there ("Verfasst von").
_AUTHOR_LABEL = re.compile(
    r"^(?:written|posted)\s+by|^(?:verfasst|geschrieben)\s+von|^(?:écrit|rédigé)\s+par|^escrito\s+por|"
    r"^(?:autor(?:in)?|author|auteur)$",
    re.I,
)


def _labelled_meta(meta: Mapping[str, list[str]]) -> list[str]:
    """The ``twitter:dataN`` values whose ``twitter:labelN`` says "written by"."""
    return [
        value
        for n in range(1, 5)
        if any(_AUTHOR_LABEL.match(label.strip()) for label in meta.get(f"twitter:label{n}", []))
        for value in meta.get(f"twitter:data{n}", [])[:1]
    ]


_SURNAME_FIRST = re.compile(r"^\s*([^\W\d_][\w'’-]+),\s*([^\W\d_][\w'’-]+)\s*$")


def _surname_first(values: list[str], page_text: Callable[[], str]) -> list[str]:
    """Values written surname first ("Gillman, Steve") as the page shows the name ("Steve Gillman").

    Read as two names otherwise, so a value turns only when the page's text (lower-cased) holds the
    name turned.
    """
    turned = []
    for value in values:
        found = _SURNAME_FIRST.match(value)
        if found and f"{found[2]} {found[1]}".lower() in page_text():
            value = f"{found[2]} {found[1]}"
        turned.append(value)
    return turned


def _agreed(groups: list[list[str]], byline: Callable[[], list[str]]) -> list[str]:
    """The names of the meta tags that the page's byline confirms, where the tags disagree.

    A publisher's ``author`` tag naming the company ("Condé Nast") beside an ``article:author``
    naming the writer: the tag whose names the byline shows wins. Tags that agree, or a byline
    that confirms none of them, keep every name, in the tags' order.
    """
    filled = [group for group in groups if group]
    every = [name for group in filled for name in group]
    keys = [{name.lower() for name in group} for group in filled]
    if len(filled) < 2 or not any(a.isdisjoint(b) for a in keys for b in keys):
        return every
    shown = {name.lower() for name in byline()}
    confirmed = [group for group, names in zip(filled, keys, strict=True) if names & shown]
    if not confirmed:
        return every
    return [name for group in confirmed for name in group]


# The text a reader sees: a name only a script or a meta tag holds is not shown.
_SHOWN_TEXT = lxml.etree.XPath(
    "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"
)


def _shown_elsewhere(
    meta_names: list[str], byline: Callable[[], list[str]], doc: lxml.html.HtmlElement
) -> bool:
    """Whether the page's byline shows other people than the meta tags name, and none of theirs.

    A meta tag naming someone the page never shows (an editor's "Written by" Twitter label) beside a
    byline that names the writer: the byline is who wrote it.
    """
    shown = {name.lower() for name in byline()}
    if not shown or not shown.isdisjoint(name.lower() for name in meta_names):
        return False
    text = clean_text(" ".join(_SHOWN_TEXT(doc))).lower()
    return not any(name.lower() in text for name in meta_names)


def _meta_agrees(meta_groups: list[list[str]], shown: list[str]) -> bool:
    """Whether a meta tag names someone the page's byline shows (a second source for the byline)."""
    names = {name.lower() for name in shown}
    return any(name.lower() in names for group in meta_groups for name in group)


def _with_coauthors(people: list[str], meta_names: list[str]) -> list[str]:
    """JSON-LD's people, or the meta tags' names where those start with them and name more: JSON-LD
    that names only the first of several authors ("April Roach" beside ``author`` "April Roach, Daniel O'Mahony")."""
    lead = [name.lower() for name in meta_names[: len(people)]]
    if people and len(meta_names) > len(people) and lead == [name.lower() for name in people]:
        return meta_names  # JSON-LD's people first, then the others (not a publisher put before them)
    return people


def _full_names(people: list[str], shown: Callable[[], list[str]]) -> list[str]:
    """JSON-LD's people, or the names the page's byline shows where JSON-LD gives only a login
    standing for each: a first name ("Todd" beside the byline's "Todd Bates") or the name run
    together ("arianschlichenmayer" beside "Arian Schlichenmayer")."""
    if not people or any(len(name.split()) > 1 for name in people):
        return people
    names = shown()

    def stands_for(login: str, name: str) -> bool:
        login = login.lower()
        return name.split()[0].lower() == login or "".join(_WORDS.findall(name.lower())) == login

    if len(names) >= len(people) and all(map(stands_for, people, names)):
        return names
    return people


_WORDS = re.compile(r"[^\W_]+")
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "gov", "ac", "edu"})


def _site_label(host: str) -> str:
    """The name a host registers ("automobilwoche" for www.automobilwoche.de, "wordpress" for a blog on
    jane.wordpress.com, whose own subdomain is its author's login), without hyphens."""
    labels = host.lower().split(".")[:-1]
    while labels and labels[-1] in _SECOND_LEVEL:
        labels.pop()
    return labels[-1].replace("-", "") if labels else ""


def authors_of(
    doc: lxml.html.HtmlElement,
    ld: dict[str, Any],
    meta: Mapping[str, list[str]],
    by_id: Mapping[str, dict[str, Any]],
    publisher: str = "",
    *,
    url: str = "",
) -> list[str]:
    """People who wrote the article, best source first; the publisher's own name is never one of them,
    nor a name whose letters spell the site's host ("Automobilwoche" on automobilwoche.de, "El
    Colombiano" on elcolombiano.com: a personal site under its owner's name loses its byline there)."""
    people, organisations = ld_people(ld.get("author") or ld.get("creator"), by_id)
    # A personal site publishes as its author: a name JSON-LD gives as a person is never the publisher's.
    not_people = {name.lower() for name in [*organisations, publisher] if name} - {p.lower() for p in people}
    # The site's name among people ("Sam Stein", "The Huffington Post"); alone, it may be a blog's owner.
    site_name = clean_text((meta.get("og:site_name") or [""])[0]).lower()

    site_label = _site_label(urlsplit(url).hostname or "")
    owners = ld_site_owners(ld.get("author") or ld.get("creator"), by_id)

    def kept(names: list[str]) -> list[str]:
        names = [
            n
            for n in names
            if n.lower() not in not_people
            and ("".join(_WORDS.findall(n.lower())) != site_label or n.lower() in owners)
        ]
        if len(names) > 1 and site_name in {n.lower() for n in names} - {p.lower() for p in people}:
            names = [n for n in names if n.lower() != site_name]
        return names[:MAX_AUTHORS]

    page_text = functools.cache(lambda: clean_text(doc.text_content()).lower())  # read once, if at all
    meta_groups = [
        names_in(_surname_first(meta.get(key, []), page_text))
        for key in (
            "author",
            "article:author",
            "dc.creator",
            "dcterms.creator",
            "parsely-author",
            "sailthru.author",
            "byl",
        )
    ]
    # The names the page's byline shows (markup first): read once, for the rules that weigh the meta
    # tags against it and as sources of their own.
    markup = functools.cache(lambda: _markup_names(doc))
    signs_a_teaser = _teaser_test(url)
    visible = functools.cache(lambda: _byline_names(doc, signs_a_teaser))

    def byline() -> list[str]:
        return markup() or visible()

    if people and _shown_elsewhere(people, byline, doc) and _meta_agrees(meta_groups, byline()):
        people = []  # JSON-LD names the account that posted it; the byline and the meta tags, the writers
    meta_names = names_in(_agreed(meta_groups, byline) + names_in(_labelled_meta(meta)))
    if meta_names and not people and _shown_elsewhere(meta_names, byline, doc):
        meta_names = []
    sources: tuple[Callable[[], list[str]], ...] = (
        lambda: _with_coauthors(
            _full_names(names_in(people), lambda: byline() or _labelled_names(doc)), meta_names
        ),
        lambda: meta_names,
        markup,
        visible,
        lambda: _author_page_names(doc, signs_a_teaser),
        # A listing page (a blog's front page) is all teasers: its first entry's byline still names someone.
        lambda: _byline_names(doc, signs_a_teaser, teasers=True),
        lambda: _author_page_names(doc, signs_a_teaser, teasers=True),
        lambda: _labelled_names(doc),
        lambda: _signed_names(doc),
    )
    for source in sources:
        names = kept(source())
        if names:
            return names
    return []
