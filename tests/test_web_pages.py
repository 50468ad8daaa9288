"""The desk's pages, server side: search, facets, dates, the chart, pagination, article, entity, compare."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

from web_fixtures import desk_client, id_of

from web._article_pages import paragraphs, summary_apart


class Page(HTMLParser):
    """The parts of a page the tests read: links, headings, ids, the hits' titles."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[tuple[str, str, dict[str, str]]] = []  # (href, text, attributes)
        self.ids: set[str] = set()
        self.headings: list[tuple[int, str]] = []
        self.hits: list[str] = []
        self._stack: list[tuple[str, dict[str, str], list[str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.ids.add(values["id"])
        if tag in {"a", "h1", "h2", "h3", "h4"}:
            self._stack.append((tag, values, []))

    def handle_data(self, data: str) -> None:
        for _, _, text in self._stack:
            text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._stack and self._stack[-1][0] == tag:
            _, values, parts = self._stack.pop()
            text = " ".join("".join(parts).split())
            if tag == "a":
                self.links.append((values.get("href", ""), text, values))
                if "hit-link" in values.get("class", ""):
                    self.hits.append(text)
            else:
                self.headings.append((int(tag[1]), text))

    def link(self, text: str) -> str:
        found = [href for href, label, _ in self.links if label == text]
        assert found, f"no link {text!r} among {[label for _, label, _ in self.links]}"
        return found[0]


def get(client: Any, url: str, status: int = 200) -> Page:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.text[:500])
    return Page(response.text)


def test_the_search_page_lists_hits_with_marked_titles_and_hit_sentences(client: Any) -> None:
    response = client.get("/?q=grok")
    page = Page(response.text)
    assert re.search(r'<h2 id="results-heading"[^>]*>4 results for “grok”', response.text)
    assert "Technology Secretary statement on X and Grok" in page.hits
    assert "said little about <mark>Grok</mark>." in response.text
    assert "Ofcom opens investigation into X over <mark>Grok</mark>" in response.text
    assert 'role="status" aria-live="polite">4 results</div>' in response.text
    assert (
        "Searching 6 articles, published 2026-01-05 to 2026-02-04, from 4 configured sources" in response.text
    )


def test_copies_of_a_story_are_folded_under_its_first_hit(client: Any) -> None:
    response = client.get("/?q=investigation&sort=newest")
    page = Page(response.text)
    assert page.hits.count("Regulator investigates X (wire copy)") == 1
    assert "Ofcom opens investigation into X over Grok" not in page.hits  # folded under the copy
    assert re.search(r"<summary>also reported by 1 other source</summary>", response.text)
    assert f'href="/article/{id_of("investigation")}"' in response.text


def test_facets_toggle_filters_as_links_and_show_counts(client: Any) -> None:
    page = get(client, "/?q=grok")
    regulator = page.link("regulator")
    assert parse_qs(urlsplit(regulator).query) == {"q": ["grok"], "type": ["regulator"]}
    narrowed = get(client, regulator)
    assert narrowed.hits == ["Ofcom opens investigation into X over Grok"]
    assert parse_qs(urlsplit(narrowed.link("Remove filter: regulator")).query) == {"q": ["grok"]}
    # watched and other entities, sources by name, jurisdictions, languages
    for label in ("Liz Kendall", "Boris Johnson", "EU Wire", "UK", "fr"):
        page.link(label)
    boris = get(client, page.link("Boris Johnson"))
    assert boris.hits == ["Technology Secretary statement on X and Grok"]


def test_an_entity_filter_takes_an_alias_as_the_cli_does(client: Any) -> None:
    page = get(client, "/?entity=Office+of+Communications")
    assert len(page.hits) == 3 and "Ofcom fines Acme Social for age checks" in page.hits


def test_dates_narrow_the_results(client: Any) -> None:
    page = get(client, "/?q=grok&since=2026-01-06&until=2026-01-20")
    assert page.hits == ["Technology Secretary statement on X and Grok"]


def test_a_bad_query_is_a_clear_message_on_the_page(client: Any) -> None:
    for url, message in [
        ("/?q=%22online+safety", "unbalanced double quote"),
        ("/?q=ofcom&since=yesterday", "since must be a date like 2024-05-31"),
        ("/?q=ofcom&page=0", "page must be a whole number"),
        ("/?q=ofcom&sort=best", "sort must be one of relevance, newest"),
        ("/?interval=year", "interval must be one of day, week, month"),
        ("/?since=2026-02-01&until=2026-01-01", "is after until"),
    ]:
        response = client.get(url)
        assert response.status_code == 400, url
        assert 'role="alert"' in response.text and message in response.text, url
        assert 'aria-invalid="true"' in response.text


def test_the_chart_has_a_title_a_description_and_its_numbers_in_a_table_and_csv(client: Any) -> None:
    response = client.get("/?q=ofcom&interval=week")
    svg = re.search(r'<svg class="chart" role="img".*?</svg>', response.text, re.S)
    assert svg is not None
    assert '<title id="attention-title">Articles per week: ofcom</title>' in svg.group()
    # from the first to the last week with articles the filters admit (the probe is in February)
    assert "Articles per week from week of 2026-01-05 to week of 2026-02-02" in svg.group()
    assert re.search(r'<th scope="row">2026-01-05</th><td>3</td><td>3</td><td>100.0%</td>', response.text)
    csv_text = client.get("/chart.csv?q=ofcom&interval=week").text.splitlines()
    assert csv_text == [
        "period,ofcom count,ofcom all articles,ofcom share",
        "2026-01-05,3,3,1.000000",
        "2026-01-12,1,1,1.000000",
        "2026-01-19,0,1,0.000000",
        "2026-01-26,0,0,0.000000",
        "2026-02-02,0,1,0.000000",
    ]


def test_the_share_is_of_all_articles_the_other_filters_admit(client: Any) -> None:
    text = client.get("/chart.csv?q=grok&type=news&interval=month&measure=share").text.splitlines()
    # news: the wire copy and the EU article (both Grok) in January, the probe (not Grok) in February
    assert text[1:] == ["2026-01-01,2,2,1.000000", "2026-02-01,0,1,0.000000"]


def test_pages_link_to_each_other_and_keep_the_search(desk_home: Any) -> None:
    with desk_client(desk_home, WEB_PAGE_SIZE=2) as client:
        first = get(client, "/?sort=newest")
        assert len(first.hits) == 2
        second_url = first.link("Page 2")
        assert parse_qs(urlsplit(second_url).query) == {"sort": ["newest"], "page": ["2"]}
        second = get(client, second_url)
        assert second.hits and not set(second.hits) & set(first.hits)
        assert parse_qs(urlsplit(second.link("Previous page")).query) == {"sort": ["newest"]}


def test_a_page_past_the_last_says_so_and_links_the_last_page(desk_home: Any) -> None:
    with desk_client(desk_home, WEB_PAGE_SIZE=2) as client:
        response = client.get("/?sort=newest&page=9")
        page = Page(response.text)
        assert page.hits == [] and "Showing" not in response.text and "Nothing matches" not in response.text
        assert "Page 9 is past the last page of these results" in response.text
        assert parse_qs(urlsplit(page.link("go to page 3")).query) == {"sort": ["newest"], "page": ["3"]}


def test_the_simple_mode_writes_the_query_into_the_url(client: Any) -> None:
    response = client.get(
        "/?all=ofcom+x&exact=formal+investigation&any=grok+chatbot&none=fine&type=regulator",
        follow_redirects=False,
    )
    assert response.status_code == 303
    target = response.headers["location"]
    assert parse_qs(urlsplit(target).query) == {
        "q": ['ofcom x "formal investigation" grok OR chatbot -fine'],
        "type": ["regulator"],
    }
    assert get(client, target).hits == ["Ofcom opens investigation into X over Grok"]


def test_an_htmx_request_gets_the_results_fragment_and_a_live_region_update(client: Any) -> None:
    full = client.get("/?q=grok")
    fragment = client.get("/?q=grok", headers={"HX-Request": "true"})
    assert full.text.startswith("<!doctype html>") and not fragment.text.lstrip().startswith("<!doctype")
    assert fragment.text.lstrip().startswith('<div id="search-view">')
    assert '<div id="announce" hx-swap-oob="true"' in fragment.text and "4 results</div>" in fragment.text
    assert fragment.headers["vary"] == "HX-Request"
    restore = client.get("/?q=grok", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert restore.text.startswith("<!doctype html>")


def test_headings_and_landmarks_are_in_order(client: Any) -> None:
    response = client.get("/?q=grok")
    levels = [level for level, _ in Page(response.text).headings]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    for landmark in (
        '<header class="site">',
        '<nav aria-label="Desk">',
        '<main id="main"',
        '<footer class="site">',
        'role="search"',
        '<aside class="facets"',
        'class="skip-link" href="#main"',
    ):
        assert landmark in response.text
    assert re.search(r'<label for="q">', response.text) and 'id="q"' in response.text


def test_the_article_page_shows_metadata_body_entities_quotes_actions_and_the_story(client: Any) -> None:
    response = client.get(f"/article/{id_of('investigation')}")
    page = Page(response.text)
    assert ("Ofcom opens investigation into X over Grok") in [text for _, text in page.headings]
    assert (
        "<p>The regulator said it would examine whether the platform assessed the risk of illegal content.</p>"
        in response.text
    )
    assert page.link("Ofcom") == "/entity/ofcom" and page.link("Acme Social") == "/entity/acme%20social"
    assert "We will not hesitate to act where platforms fail" in response.text
    assert page.link("Regulator investigates X (wire copy)") == f"/article/{id_of('investigation-copy')}"
    original = [attrs for href, _, attrs in page.links if href == "https://investigation.example/story"]
    assert original and all(attrs.get("rel") == "noopener noreferrer" for attrs in original)
    assert 'class="action-type">investigation</span>' in response.text
    assert response.text.count("The regulator opens a formal investigation.") == 1  # the summary, apart


def test_an_unknown_article_is_a_404_page(client: Any) -> None:
    for url in ("/article/0000000000000000", "/article/not-an-id", "/article/%3Cscript%3E"):
        response = client.get(url)
        assert response.status_code == 404 and "is stored." in response.text, url
        assert "<script>" not in response.text


def test_the_entity_page_shows_mentions_company_quotes_actions_and_latest_articles(client: Any) -> None:
    response = client.get("/entity/ofcom")
    page = Page(response.text)
    assert ("Ofcom") in [text for level, text in page.headings if level == 1]
    assert "Mentioned in" in response.text and page.link("4 articles").startswith("/?")
    assert page.link("Grok") == "/entity/grok" and page.link("Boris Johnson") == "/entity/boris%20johnson"
    assert "<mark>Ofcom</mark> has our full backing to act on Grok" in response.text  # about it
    assert "We will not hesitate to act where platforms fail" in response.text  # by it
    assert page.link("Ofcom fines Acme Social for age checks") == f"/article/{id_of('fine')}"
    assert '<svg class="chart" role="img"' in response.text
    assert (
        page.link("week") == "/entity/ofcom?interval=week"
        and page.link("month") == "/entity/ofcom?interval=month"
    )
    assert page.link("Download these numbers (CSV)") == "/chart.csv?entity=Ofcom"


def test_an_entity_is_reached_by_id_alias_or_normalised_name(client: Any) -> None:
    moved = client.get("/entity/Office%20of%20Communications", follow_redirects=False)
    assert moved.status_code == 307 and moved.headers["location"] == "/entity/ofcom"
    moved = client.get("/entity/Boris%20JOHNSON", follow_redirects=False)
    assert moved.headers["location"] == "/entity/boris%20johnson"
    other = client.get("/entity/boris%20johnson")
    assert other.status_code == 200 and "not on the watchlist" in other.text
    assert client.get("/entity/nobody%20at%20all").status_code == 404


def test_compare_puts_each_search_on_one_chart_with_its_count_and_top_sources(client: Any) -> None:
    response = client.get("/compare?q1=grok&q2=ofcom&type2=regulator")
    page = Page(response.text)
    assert page.link("4 articles").startswith("/?q=grok")
    assert re.search(
        r'2: ofcom</strong>\s*— <a href="/\?q=ofcom&amp;type=regulator">2 articles</a>; most from Ofcom news \(2\)',
        response.text,
    )
    assert response.text.count('<polyline class="line"') == 2
    assert 'stroke-dasharray="7 4"' in response.text  # the second series is dashed as well as coloured
    copy = page.link("Copy the filters of search 1 to all")
    assert parse_qs(urlsplit(copy).query) == {"q1": ["grok"], "q2": ["ofcom"]}
    with_filters = get(client, "/compare?q1=grok&type1=news&q2=ofcom")
    copied = parse_qs(urlsplit(with_filters.link("Copy the filters of search 1 to all")).query)
    assert copied == {"q1": ["grok"], "type1": ["news"], "q2": ["ofcom"], "type2": ["news"]}
    csv_lines = client.get("/compare/chart.csv?q1=grok&q2=ofcom&interval=month").text.splitlines()
    assert csv_lines == [
        "period,1: grok count,1: grok all articles,1: grok share,2: ofcom count,2: ofcom all articles,2: ofcom share",
        "2026-01-01,4,5,0.800000,4,5,0.800000",
        "2026-02-01,0,1,0.000000,0,1,0.000000",
    ]


def test_compare_without_searches_shows_the_form(client: Any) -> None:
    response = client.get("/compare")
    assert (
        response.status_code == 200
        and 'id="q4"' in response.text
        and "Attention over time" not in response.text
    )


def test_static_files_are_served_and_the_javascript_is_small(client: Any) -> None:
    import hashlib

    from web._app import HTMX_FILE, HTMX_SHA256

    htmx = client.get(f"/static/{HTMX_FILE}")
    assert htmx.status_code == 200 and hashlib.sha256(htmx.content).hexdigest() == HTMX_SHA256
    desk_js = client.get("/static/desk.js")
    assert desk_js.status_code == 200 and len(htmx.content) + len(desk_js.content) < 100_000
    assert client.get("/static/desk.css").status_code == 200


def test_a_submitted_form_lands_on_the_address_of_what_is_set(client: Any) -> None:
    submitted = "/?q=+grok&entity=&source=&since=&until=&sort=relevance"
    moved = client.get(submitted, follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == "/?q=grok"
    swapped = client.get(submitted, headers={"HX-Request": "true"})
    assert swapped.status_code == 200 and swapped.headers["hx-push-url"] == "/?q=grok"
    assert client.get("/?q=grok", follow_redirects=False).status_code == 200
    assert client.get("/?q=grok&page=x", follow_redirects=False).status_code == 400  # as typed, no loop


def test_a_summary_the_body_opens_with_is_shown_once() -> None:
    body = "The regulator fined the platform.\nIt has 28 days to appeal."
    assert summary_apart("The regulator fined the platform.", paragraphs(body)) == ""
    assert summary_apart("A fine of £1m.", paragraphs(body)) == "A fine of £1m."
    assert summary_apart("", paragraphs("")) == ""
