"""Extraction of article fields from pages written here: one metadata shape per test."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawlers import extract_article, extract_file
from regwatch.errors import ExtractionError

SEED = Path(__file__).parent / "data" / "seed_article.txt"  # the customer's seed article
URL = "https://news.example.org/2026/01/ofcom-x.html"

PARAGRAPHS = [
    "On Monday, communications watchdog Ofcom launched an investigation into X to investigate whether "
    "the platform has complied with its duties under the new Online Safety Act.",
    "Technology Secretary Liz Kendall said she expected Ofcom to move quickly on the issue, and that the "
    "regulator would have her full support to block access to X if the platform refused to comply.",
    "Nigel Farage said the government risks suppressing free speech with the move.",
]

BOILERPLATE = """
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/politics">Politics</a></li>
<li><a href="/tech">Technology</a></li></ul></nav></header>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies</div>
"""
FOOTER = '<footer><p>Copyright 2026 Example News Ltd. All rights reserved.</p><a href="/privacy">Privacy</a></footer>'


def page(
    head: str = "", paragraphs: list[str] | None = None, html_attrs: str = 'lang="en-GB"', h1: str = ""
) -> str:
    body = "\n".join(f"<p>{p}</p>" for p in (PARAGRAPHS if paragraphs is None else paragraphs))
    heading = f"<h1>{h1}</h1>" if h1 else ""
    return (
        f"<!DOCTYPE html>\n<html {html_attrs}><head><meta charset='utf-8'>{head}</head>"
        f"<body>{BOILERPLATE}<main><article>{heading}\n{body}\n</article></main>{FOOTER}</body></html>"
    )


def jsonld(data: object) -> str:
    # "</" escaped as publishers must, or a "</script>" inside a string would end the element
    text = json.dumps(data).replace("</", "<\\/")
    return f'<script type="application/ld+json">{text}</script>'


def test_json_ld_news_article_gives_every_field() -> None:
    head = (
        "<title>Ofcom opens X investigation | Example News</title>"
        '<link rel="canonical" href="/2026/01/ofcom-x.html?utm_source=twitter&amp;utm_medium=social&amp;page=2#top">'
        + jsonld(
            {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "headline": "Ofcom opens investigation into X over Grok",
                "datePublished": "2026-01-12T09:30:00+01:00",
                "dateModified": "2026-01-12T15:05:00Z",
                "author": [{"@type": "Person", "name": "By Tom Aldridge and Priya Nair"}],
                "description": "The regulator will examine whether X met its duties.",
                "articleSection": "Technology",
                "keywords": "Ofcom, X, Grok",
                "inLanguage": "fr",
            }
        )
    )
    article = extract_article(page(head), URL, "ledger")

    assert article.title == "Ofcom opens investigation into X over Grok"
    assert article.url == "https://news.example.org/2026/01/ofcom-x.html?page=2"
    assert article.fetch_url == URL
    assert article.source_id == "ledger"
    assert article.published == datetime(2026, 1, 12, 8, 30, tzinfo=UTC)
    assert article.updated == datetime(2026, 1, 12, 15, 5, tzinfo=UTC)
    assert article.published.utcoffset().total_seconds() == 0
    assert article.authors == ["Tom Aldridge", "Priya Nair"]
    assert article.summary == "The regulator will examine whether X met its duties."
    assert article.section == "Technology"
    assert article.tags == ["Ofcom", "X", "Grok"]
    assert article.language == "en"  # <html lang> wins over JSON-LD inLanguage


def test_body_keeps_paragraphs_apart_and_drops_boilerplate() -> None:
    article = extract_article(page("<title>Ofcom and X</title>", h1="Ofcom and X"), URL)

    assert article.body == "\n\n".join(PARAGRAPHS)
    for noise in ("cookies", "Copyright", "Home", "Privacy"):
        assert noise not in article.body


def test_seed_article_body_is_its_paragraphs_verbatim() -> None:
    paragraphs = [line.strip() for line in SEED.read_text("utf-8").splitlines() if line.strip()]
    head = '<meta property="og:title" content="Starmer ‘boycotting’ X over Grok AI deepfakes">'
    article = extract_article(page(head, paragraphs).encode("utf-8"), URL)

    assert article.body.split("\n\n") == paragraphs
    assert article.title == "Starmer ‘boycotting’ X over Grok AI deepfakes"


def test_json_ld_inside_graph_is_found_among_other_types() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Example News"},
            {"@type": "Organization", "name": "Example News Ltd"},
            {
                "@type": ["ReportageNewsArticle"],
                "headline": "Kendall backs Ofcom",
                "datePublished": "2026-01-09T18:40:00Z",
                "author": {"@type": "Person", "name": "Priya Nair"},
            },
        ],
    }
    article = extract_article(page("<title>Example News</title>" + jsonld(graph)), URL)

    assert article.title == "Kendall backs Ofcom"
    assert article.published == datetime(2026, 1, 9, 18, 40, tzinfo=UTC)
    assert article.authors == ["Priya Nair"]


def test_opengraph_only_page() -> None:
    head = (
        "<title>Ministers fall silent on X - Westminster Wire | Westminster Wire</title>"
        '<meta property="og:title" content="Ministers fall silent on X">'
        '<meta property="og:description" content="Several ministers have gone quiet.">'
        '<meta property="article:published_time" content="2026-01-13T14:20:00+00:00">'
        '<meta property="article:modified_time" content="2026-01-13T16:00:00+00:00">'
        '<meta property="article:section" content="Politics">'
        '<meta property="article:tag" content="X"><meta property="article:tag" content="Starmer">'
        '<meta property="og:locale" content="en_GB">'
    )
    article = extract_article(page(head, html_attrs=""), URL + "?utm_campaign=rss#comments")

    assert article.title == "Ministers fall silent on X"
    assert article.summary == "Several ministers have gone quiet."
    assert article.published == datetime(2026, 1, 13, 14, 20, tzinfo=UTC)
    assert article.updated == datetime(2026, 1, 13, 16, 0, tzinfo=UTC)
    assert article.section == "Politics"
    assert article.tags == ["X", "Starmer"]
    assert article.language == "en"
    assert article.url == URL  # no canonical link: the fetch URL without tracking and fragment


def test_meta_tags_only_page_uses_title_without_site_suffix() -> None:
    head = (
        "<title>Update on our investigation into X | Ofcom</title>"
        '<meta name="author" content="By Jane Doe, John Roe &amp; Ann Lee">'
        '<meta name="DC.date.issued" content="2026-01-15">'
        '<meta name="govuk:public-updated-at" content="2026-01-16T10:00:00.000+00:00">'
        '<meta name="description" content="X has told us it restricted Grok.">'
    )
    article = extract_article(page(head), URL)

    assert article.title == "Update on our investigation into X"
    assert article.authors == ["Jane Doe", "John Roe", "Ann Lee"]
    assert article.published == datetime(2026, 1, 15, tzinfo=UTC)
    assert article.updated == datetime(2026, 1, 16, 10, 0, tzinfo=UTC)
    assert article.summary == "X has told us it restricted Grok."


def test_govuk_meta_gives_the_published_date() -> None:
    head = (
        '<meta name="govuk:first-published-at" content="2026-01-09T16:00:00.000+00:00">'
        "<title>Technology Secretary statement - GOV.UK</title>"
    )
    article = extract_article(page(head, h1="Technology Secretary statement on X and Grok"), URL)

    assert article.published == datetime(2026, 1, 9, 16, 0, tzinfo=UTC)
    assert article.title == "Technology Secretary statement on X and Grok"  # the only <h1>


def test_time_element_only_page_and_first_paragraph_summary() -> None:
    byline = '<div class="byline">Published <time datetime="2026-01-05T10:00:00+00:00">5 Jan</time></div>'
    article = extract_article(
        page("<title>Bulletin</title>", h1="Bulletin").replace("</h1>", "</h1>" + byline), URL
    )

    assert article.published == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert article.updated is None
    assert article.authors == []
    assert article.summary == PARAGRAPHS[0]


def test_index_metadata_is_only_a_fallback() -> None:
    fallback = {
        "title": "Feed title",
        "summary": "Feed summary",
        "published": datetime(2026, 1, 1, tzinfo=UTC),
        "authors": ["Feed Author"],
        "tags": ["feed-tag"],
    }
    bare = extract_article(page(""), URL, fallback=fallback)
    assert (bare.title, bare.summary, bare.published) == ("Feed title", "Feed summary", fallback["published"])
    assert (bare.authors, bare.tags) == (["Feed Author"], ["feed-tag"])

    head = (
        '<meta property="og:title" content="Page title">'
        '<meta property="og:description" content="Page summary">'
        '<meta property="article:published_time" content="2026-01-12T08:30:00Z">'
    )
    rich = extract_article(page(head), URL, fallback=fallback)
    assert (rich.title, rich.summary) == ("Page title", "Page summary")
    assert rich.published == datetime(2026, 1, 12, 8, 30, tzinfo=UTC)


def test_a_declared_summary_cut_from_the_body_yields_to_the_standfirst_the_page_shows() -> None:
    standfirst = "Ofcom has opened a formal investigation into X over Grok's sexualised images."
    opening = PARAGRAPHS[0][:80] + "..."
    head = (
        f'<meta property="og:description" content="{opening}">'
        f'<meta property="og:description" content="{standfirst}">'
    )
    shown = page(head, h1="Ofcom investigates X").replace(
        "</h1>", f'</h1><div class="entry-excerpt" itemprop="description"><p>{standfirst}</p></div>'
    )
    assert extract_article(shown, URL).summary == standfirst
    # Not shown, the other is written for search results only: the first description stands.
    assert extract_article(page(head, h1="Ofcom investigates X"), URL).summary == opening


@pytest.mark.parametrize(
    ("raw", "header"),
    [
        pytest.param("utf8", "iso-8859-1", id="utf8-bytes-header-says-latin1"),
        pytest.param("utf8", "windows-1252", id="utf8-bytes-header-says-cp1252"),
        pytest.param("cp1252", "utf-8", id="cp1252-bytes-header-says-utf8"),
        pytest.param("cp1252", None, id="cp1252-bytes-no-header"),
        pytest.param("bom", "iso-8859-1", id="utf8-bom"),
    ],
)
def test_wrongly_declared_charset_is_decoded_correctly(raw: str, header: str | None) -> None:
    title = "Zoë Lefèvre’s “Grok” report — €5m fine"
    html = page(f"<title>{title}</title>", [p + " Café déjà vu." for p in PARAGRAPHS])
    data = {
        "utf8": html.encode("utf-8"),
        "cp1252": html.encode("cp1252"),
        "bom": b"\xef\xbb\xbf" + html.encode("utf-8"),
    }[raw]
    article = extract_article(data, URL, headers_charset=header)

    assert article.title == title
    assert "Café déjà vu." in article.body
    assert "Ã" not in article.body + article.title


def test_script_in_headline_stays_text_and_scripts_stay_out_of_body() -> None:
    head = (
        "<title>Why &lt;script&gt; still haunts the web</title>"
        + jsonld({"@type": "NewsArticle", "headline": "Why ‘<script>alert(1)</script>’ still haunts the web"})
        + "<script>var secret = 'tracking-code';</script><style>.x { color: red }</style>"
    )
    paragraphs = [
        "Attackers still paste &lt;script&gt;alert(1)&lt;/script&gt; into comment forms to test them for holes.",
        *PARAGRAPHS,
        "<script>document.write('injected-by-script')</script><b>Bold</b> words in <i>a paragraph</i> of text.",
    ]
    article = extract_article(page(head, paragraphs), URL)

    assert article.title == "Why ‘<script>alert(1)</script>’ still haunts the web"
    assert "Attackers still paste <script>alert(1)</script> into comment forms" in article.body
    assert "tracking-code" not in article.body
    assert "injected-by-script" not in article.body
    assert "color: red" not in article.body
    assert "Bold words in a paragraph of text." in article.body
    assert "<b>" not in article.body and "<p>" not in article.body


def test_page_without_title_is_titled_by_its_opening_words() -> None:
    """Real pages (a 2008 BBC page cut before its <head>) name their article nowhere: the article stays."""
    article = extract_article(page("", html_attrs=""), URL)
    assert article.title == (
        "On Monday, communications watchdog Ofcom launched an investigation into X to investigate whether the platform has…"
    )
    assert article.body.startswith(PARAGRAPHS[0])
    titled = page("", html_attrs="").replace("<article>", "<article><h2>Ofcom investigates X</h2>")
    assert extract_article(titled, URL).title == "Ofcom investigates X"
    with pytest.raises(ExtractionError, match="no title and no text"):
        extract_article("<html><body><div><img src='a.png'></div></body></html>", URL, min_body_chars=0)


def test_page_with_too_short_body_is_an_extraction_error() -> None:
    with pytest.raises(ExtractionError, match="body too short"):
        extract_article(page("<title>Short</title>", ["Too short."]), URL)


def test_min_body_chars_is_configurable() -> None:
    article = extract_article(page("<title>Short</title>", ["Short but enough."]), URL, min_body_chars=10)
    assert article.body == "Short but enough."


@pytest.mark.parametrize(
    "data",
    [
        b'{"results": [{"title": "JSON, not HTML"}]}',
        b"%PDF-1.7\n\x00\x01\x02binary",
        b"",
    ],
    ids=["json", "pdf", "empty"],
)
def test_non_html_is_an_extraction_error(data: bytes) -> None:
    with pytest.raises(ExtractionError, match="not HTML"):
        extract_article(data, URL)


def test_extract_file_reads_html_and_gzipped_html(tmp_path: Path) -> None:
    head = '<meta property="og:title" content="Saved page">'
    plain = tmp_path / "saved.html"
    plain.write_text(page(head), "utf-8")
    zipped = tmp_path / "saved.html.gz"
    zipped.write_bytes(gzip.compress(page(head + '<link rel="canonical" href="https://ex.org/a">').encode()))

    from_plain = extract_file(plain)
    from_zipped = extract_file(zipped)

    assert from_plain.title == from_zipped.title == "Saved page"
    assert from_plain.body == from_zipped.body == "\n\n".join(PARAGRAPHS)
    assert from_plain.url == plain.resolve().as_uri()
    assert from_zipped.url == "https://ex.org/a"


def test_extract_file_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="cannot read"):
        extract_file(tmp_path / "missing.html")


# --- the general rules beyond trafilatura (crawlers/_body.py, bylines, stated times) -------------------


def test_a_publisher_named_as_author_is_not_a_byline_and_the_visible_byline_is_read() -> None:
    head = jsonld(
        {
            "@type": "NewsArticle",
            "headline": "Ofcom opens investigation into X",
            "author": {"@type": "Organization", "name": "ITV News"},
            "datePublished": "2026-01-12T09:30:00Z",
        }
    )
    html = page(head).replace(
        "<article>", '<article><p class="byline">By Political Correspondent Carl Dinnen</p>'
    )
    assert extract_article(html, URL, "itv").authors == ["Carl Dinnen"]


def test_an_author_given_by_id_is_looked_up_in_the_graph() -> None:
    head = jsonld(
        {
            "@context": "https://schema.org",
            "@graph": [
                {
                    "@type": "NewsArticle",
                    "headline": "Ofcom opens investigation into X",
                    "author": {"@id": "https://news.example.org/#/schema/person/1"},
                },
                {"@type": "Person", "@id": "https://news.example.org/#/schema/person/1", "name": "Jane Doe"},
            ],
        }
    )
    assert extract_article(page(head), URL, "blog").authors == ["Jane Doe"]


def test_pull_quotes_link_lists_and_wire_credits_are_cut_from_the_body_and_embedded_posts_stay() -> None:
    """An embedded post is what someone said (a minister's tweet, a platform's statement): real pages'
    gold (trafilatura's evaluation set) keeps it as text of the article, so it stays."""
    quote = PARAGRAPHS[1]
    extra = [
        *PARAGRAPHS,
        f"</p><blockquote class='pull-quote'><p>{quote}</p></blockquote><p>A closing paragraph of plain "
        "article text follows the pull quote here, long enough to count as prose.",
        "</p><blockquote class='twitter-tweet'><p>Embedded post the minister wrote on X today</p></blockquote>"
        "<ul><li><a href='/a'>Related: Ofcom fines a broadcaster</a></li>"
        "<li><a href='/b'>Related: what the Online Safety Act means</a></li></ul><p>"
        "Reporting by Jane Doe; Editing by John Smith",
    ]
    body = extract_article(page(jsonld({"@type": "NewsArticle", "headline": "H"}), extra), URL, "wire").body
    assert body.count(quote) == 1
    assert "Embedded post the minister wrote on X today" in body
    assert "Related:" not in body and "Reporting by" not in body
    assert body.split("\n\n")[-2].startswith("A closing paragraph")


def test_a_time_without_offset_gives_way_to_the_same_clock_time_stated_with_one() -> None:
    head = (
        jsonld({"@type": "NewsArticle", "headline": "H", "datePublished": "2026-02-04 11:32:40"})
        + '<meta property="article:published_time" content="2026-02-04T11:32:40+01:00">'
    )
    published = extract_article(page(head), URL, "euronews").published
    assert published == datetime(2026, 2, 4, 10, 32, 40, tzinfo=UTC)


def test_a_date_the_page_only_shows_is_read_as_that_day() -> None:
    html = page("<title>Ofcom statement</title>").replace(
        "<article>", "<article><p class='date'>Published: 20 January 2026</p>"
    )
    assert extract_article(html, URL, "ofcom").published == datetime(2026, 1, 20, tzinfo=UTC)


def test_a_shown_date_is_midnight_in_the_publishers_zone() -> None:
    html = page("<title>Commission statement</title>").replace(
        "<article>", "<article><p class='date'>Published: 20 January 2026</p>"
    )
    published = extract_article(html, URL, "ec", local_timezone="Europe/Brussels").published
    assert published == datetime(2026, 1, 19, 23, 0, tzinfo=UTC)


def test_a_published_time_after_the_last_update_is_the_render_time_and_the_page_says_better() -> None:
    """A CMS stamping every view: published 10:33:13, modified 10:32:18 the same day; the <time> holds the day."""
    head = (
        '<meta property="article:published_time" content="2022-11-17T10:33:13.258Z">'
        '<meta property="article:modified_time" content="2022-11-17T10:32:18.099Z">'
    )
    html = page(head).replace("<article>", '<article><time datetime="2022-03-09">9. März 2022</time>')
    assert extract_article(html, URL, "heizung").published == datetime(2022, 3, 9, tzinfo=UTC)


def test_a_day_in_the_url_beats_a_publication_declared_years_later() -> None:
    """A blog moved to a new platform in 2019 re-declared every post as published then; its URLs kept the day."""
    head = jsonld({"@type": "BlogPosting", "headline": "H", "datePublished": "2019-06-17T18:28:00+0200"})
    url = "https://www.blog.example/home/2017/7/12/unter-uns-montauk"
    published = extract_article(page(head), url, "blog", local_timezone="Europe/Berlin").published
    assert published == datetime(2017, 7, 11, 22, 0, tzinfo=UTC)
    # the same day, or a few days on (a story filed at night, a correction), keeps the declared time
    url = "https://www.blog.example/home/2019/6/15/unter-uns-montauk"
    assert extract_article(page(head), url, "blog").published == datetime(2019, 6, 17, 16, 28, tzinfo=UTC)


def test_a_description_repeating_the_first_paragraph_with_a_no_break_space_stays_in_the_body() -> None:
    """Found on a real news page: its first <p> opens "For&nbsp;Winnipeggers…", its description with a plain space."""
    first = "For Winnipeggers wanting to recycle their trees, the city has drop-off points for mulching."
    rest = "".join(
        f"<p>Depot number {i} is open until January 20 for trees that have lost their holiday lustre.</p>"
        for i in range(5)
    )
    html = (
        f'<html><head><title>Mulch the tree</title><meta name="description" content="{first}"></head>'
        f"<body><article><h1>Mulch the tree</h1><p>{first.replace(' ', '&nbsp;', 1)}</p>{rest}</article></body></html>"
    )
    article = extract_article(html, URL)
    assert article.body.startswith(first) and article.summary == first


def test_a_summary_opening_after_a_comment_is_looked_up_without_crashing() -> None:
    """Found on real pages: the text after an HTML comment is the comment's tail, not an element's text."""
    summary = "The regulator fined the platform for failing to protect children online."
    body = "".join(
        f"<p>Paragraph {i} of the story&nbsp;tells what the regulator found.</p>" for i in range(5)
    )
    html = (
        f'<html><head><title>Fine</title><meta name="description" content="{summary}"></head><body>'
        f"<article><h1>Fine</h1><div><!-- ad -->The regulator fined the platform on Monday.</div>{body}"
        "</article></body></html>"
    )
    assert extract_article(html, URL).summary == summary


def test_a_standfirst_shown_apart_opens_the_body_and_is_the_summary() -> None:
    """Real pages' human gold (Readability's, L3S-GN1's) keeps a standfirst in the article's text.

    A regulator's lead paragraph names who acts and on whom: a search or a tagger that reads the
    body must see it too, so it is the body's first paragraph as well as the summary.
    """
    lead = "A high-powered government team has toured media offices to allay concerns. It failed."
    html = (
        f'<html><head><title>Angry media</title><meta name="description" content="{lead}"></head><body>'
        f'<article><h1>Angry media</h1><div class="story-intro"><p><strong>{lead}</strong></p></div>'
        + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
        + "</article></body></html>"
    )
    article = extract_article(html, URL)
    assert article.summary == lead
    assert article.body.split("\n\n")[0] == lead
    assert article.body.count(lead) == 1


def test_a_wall_clock_declared_without_offset_takes_the_zone_the_page_shows() -> None:
    shown = (
        '<p class="dateline">10/17/2026 04:01 PM EDT</p><p class="comment">Posted 10/17/2026 09:12 PM EDT</p>'
    )
    head = "<title>Bulletin</title>"
    html = page(head, h1="Bulletin").replace(
        "</h1>", '</h1><time datetime="2026-10-17 16:01:26"></time>' + shown
    )
    assert extract_article(html, URL).published == datetime(2026, 10, 17, 20, 1, 26, tzinfo=UTC)

    # A shown time that tells another clock (a comment's) does not replace the declared one.
    other = page(head, h1="Bulletin").replace(
        "</h1>", '</h1><time datetime="2026-10-17 16:01:26"></time><p>Posted 10/17/2026 09:12 PM EDT</p>'
    )
    assert extract_article(other, URL).published == datetime(2026, 10, 17, 16, 1, 26, tzinfo=UTC)


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        ("Updated: Dec 15, 2025 2:57 PM UTC", datetime(2025, 12, 15, 14, 57, tzinfo=UTC)),
        ("Updated: Oct 9, 2025, 11:05 IST", datetime(2025, 10, 9, 5, 35, tzinfo=UTC)),
        ("11/28/2025 11:00 AM PT", datetime(2025, 11, 28, 19, 0, tzinfo=UTC)),  # Pacific standard time
        ("Monday 27th of April 2026 02:37:18 AM CDT", datetime(2026, 4, 27, 7, 37, 18, tzinfo=UTC)),
    ],
)
def test_a_page_that_declares_nothing_gives_the_time_it_shows_with_its_zone(
    shown: str, expected: datetime
) -> None:
    html = page("<title>Bulletin</title>", h1="Bulletin").replace(
        "</h1>", f"</h1><p class='date'>{shown}</p>"
    )
    assert extract_article(html, URL).published == expected


def test_a_declared_day_is_midnight_in_the_zone_of_the_pages_country_domain() -> None:
    head = '<title>Meldung</title><meta name="DC.date.issued" content="2026-01-15">'
    article = extract_article(page(head, h1="Meldung"), "https://www.example.de/meldung.html")
    assert article.published == datetime(2026, 1, 14, 23, 0, tzinfo=UTC)


def test_an_offset_written_with_one_digit_of_hours_is_read() -> None:
    head = '<title>Bulletin</title><meta property="article:published_time" content="2018-10-29T10:15-500">'
    assert extract_article(page(head, h1="Bulletin"), URL).published == datetime(
        2018, 10, 29, 15, 15, tzinfo=UTC
    )


def test_microdata_on_a_span_gives_the_published_time() -> None:
    byline = '<span class="timestamp" itemprop="datePublished" content="2018-10-29T10:15-500">October 29, 2018</span>'
    html = page("<title>Bulletin</title>", h1="Bulletin").replace("</h1>", "</h1>" + byline)
    assert extract_article(html, URL).published == datetime(2018, 10, 29, 15, 15, tzinfo=UTC)


def test_a_clock_shown_without_a_zone_is_read_in_the_publishers_zone() -> None:
    def published(shown: str, url: str, zone: str = "") -> datetime | None:
        html = page("<title>Bulletin</title>", h1="Bulletin").replace(
            "</h1>", f"</h1><p class='date'>{shown}</p>"
        )
        return extract_article(html, url, local_timezone=zone).published

    # The zone of the page's country domain, or the one its source names.
    assert published("2019年3月15日 09:43", "https://www.example.jp/a.html") == datetime(
        2019, 3, 15, 0, 43, tzinfo=UTC
    )
    assert published("15.03.2019, 09:43 Uhr", URL, "Europe/Berlin") == datetime(
        2019, 3, 15, 8, 43, tzinfo=UTC
    )
    # Without either, only the day is known.
    assert published("15.03.2019, 09:43 Uhr", URL) == datetime(2019, 3, 15, tzinfo=UTC)


def test_parselys_publication_tag_beats_a_related_storys_time_element() -> None:
    head = '<title>Bulletin</title><meta name="parsely-pub-date" content="2016-12-07T05:00:00-05:00">'
    related = '<aside><time datetime="2022-10-20T04:01:13.348Z">Oct. 19, 2022</time> Election results</aside>'
    html = page(head, h1="Bulletin").replace("</article>", "</article>" + related)
    assert extract_article(html, URL).published == datetime(2016, 12, 7, 10, 0, tzinfo=UTC)


def test_a_day_shown_the_cjk_way_beats_a_copyright_year() -> None:
    """htmldate reads no "2019年4月4日" and falls back on the footer's year as 1 January."""
    html = (
        page("<title>Bulletin</title>", h1="Bulletin")
        .replace("</h1>", "</h1><div class='pubdate'>2019&#x5E74;4&#x6708;4&#x65E5;</div>")
        .replace("</article>", "</article><footer>Copyright © 2016 Example</footer>")
    )
    assert extract_article(html, "https://www.example.jp/a.html").published == datetime(
        2019, 4, 3, 15, 0, tzinfo=UTC
    )
