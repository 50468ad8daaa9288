"""Who wrote the article: each source of names and each cleaning rule, on small pages written here."""

from __future__ import annotations

import json

import pytest

from crawlers import extract_article
from crawlers._authors import names_in

URL = "https://news.example.org/2026/01/story.html"
TEXT = "".join(
    f"<p>The regulator said the platform had failed to protect children, in part {i} of the story.</p>"
    for i in range(5)
)


def authors_of(head: str = "", byline: str = "") -> list[str]:
    page = (
        f"<html><head><title>Story</title>{head}</head><body><article>{byline}{TEXT}</article></body></html>"
    )
    return extract_article(page, URL).authors


def jsonld(author: object) -> str:
    return f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", "author": author})}</script>'


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("By Tom Aldridge and Priya Nair", ["Tom Aldridge", "Priya Nair"]),
        ("Jane Doe, John Roe & Ann Lee", ["Jane Doe", "John Roe", "Ann Lee"]),
        ("Von Benjamin Fischer und Marcus Theurer", ["Benjamin Fischer", "Marcus Theurer"]),
        ("Par Sébastien Farcis et Anne Martin", ["Sébastien Farcis", "Anne Martin"]),
        ("By Political Correspondent Carl Dinnen", ["Carl Dinnen"]),
        ("Dan Milmo, Global technology editor", ["Dan Milmo"]),
        ("FOCUS-Online-Experte Robin Tschöpe", ["Robin Tschöpe"]),
        ("Martin Untersinger (avec Damien Leloup)", ["Martin Untersinger"]),
        ("Lüder Hoppe info@buero-hoppe.de", ["Lüder Hoppe"]),
        ("Steven Musil @stevenmusil", ["Steven Musil"]),
        ("Walter von Aachen", ["Walter von Aachen"]),
        ("Veröffentlicht von Chris Jung", ["Chris Jung"]),
        ("Erstellt von Andri Bryner", ["Andri Bryner"]),
        ("Publié par Jean Dupont", ["Jean Dupont"]),
        ("Veröffentlicht von", []),
        ("BBC News", []),
        ("Super User", []),
        ("Zeige alle Beiträge von Michael Veeser-Dombrowski →", []),
        ("deinen Hochzeitsbloggern", []),
        ("Rezept von", []),  # the login after it dropped (lower case): a label, not a name
        ("Mobasir hassan", ["Mobasir hassan"]),  # a meta tag's name with a lower-case surname
        ("Guest author", []),
        ("Jobs & Hire", []),  # one word each side: a brand, a place, a desk's code ("det/dpa")
        ("Frankfurt, Germany", []),
        ("Site admin", []),
        ("Bundesministerium für Wirtschaft und Klimaschutz", []),  # a ministry, not two people
        ("Auswärtiges Amt", []),
        ("Bundesverband WindEnergie", []),
        ("Die Grünen Bundestagsfraktion", []),
        ("Hans Amtmann und Bernd Gesell", ["Hans Amtmann", "Bernd Gesell"]),
    ],
)
def test_a_byline_value_gives_the_people_it_names(value: str, names: list[str]) -> None:
    assert names_in([value]) == names


def test_a_login_counts_only_where_markup_says_it_is_the_author() -> None:
    assert names_in(["gizzmo"]) == ["gizzmo"]
    assert names_in(["gizzmo"], strict=True) == []  # a visible byline's lone lowercase word is not a name


def test_json_ld_people_come_first_and_a_publisher_is_no_author() -> None:
    people = jsonld(
        [{"@type": "Person", "name": "Ann Lee"}, {"@type": "Organization", "name": "Example News"}]
    )
    assert authors_of(people + '<meta name="author" content="Someone Else">') == ["Ann Lee"]
    assert authors_of(jsonld({"@type": "Organization", "name": "Example News"})) == []


def test_cdata_wrapped_json_ld_is_read() -> None:
    ld = json.dumps({"@type": "BlogPosting", "author": {"@type": "Person", "name": "Dave Steer"}})
    assert authors_of(f'<script type="application/ld+json"><![CDATA[ {ld} ]]></script>') == ["Dave Steer"]


def test_itemprop_author_gives_its_name_not_the_whole_box() -> None:
    box = (
        '<div itemprop="author" itemscope><span itemprop="name">Steven Musil</span> January 18, 2017 '
        "11:00 PM PST</div>"
    )
    assert authors_of(byline=box) == ["Steven Musil"]


def test_a_visible_byline_is_read_line_by_line() -> None:
    assert authors_of(
        byline='<div class="FeatureByline"> By <b>Nathan Willis</b><br/>March 25, 2015</div>'
    ) == ["Nathan Willis"]
    assert authors_of(
        byline='<span class="author">Par<span class="authorname"> Sébastien Farcis</span></span>'
    ) == ["Sébastien Farcis"]


def test_an_author_biography_is_not_a_byline() -> None:
    bio = (
        '<div class="author-box">Amy Motroni. I am so glad you stopped by! '
        + "My blog is about sleep. " * 8
        + "</div>"
    )
    assert authors_of(byline=bio) == []


def test_a_quotations_attribution_is_not_the_byline() -> None:
    quote = (
        "<blockquote><p>Today's fine shows that we will enforce our rules.</p>"
        '<footer><cite class="blockquote__author">Henna Virkkunen, Executive Vice-President</cite></footer></blockquote>'
    )
    assert authors_of(byline=quote) == []


def test_a_person_that_is_also_the_sites_organisation_is_the_author() -> None:
    """A personal site (Yoast's graph): the author is typed ["Person", "Organization"] and publishes the site."""
    person = {
        "@type": ["Person", "Organization"],
        "@id": "https://example.org/#me",
        "name": "Helge Fahrnberger",
    }
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            person,
            {
                "@type": "Article",
                "author": {"@id": "https://example.org/#me"},
                "publisher": {"@id": "https://example.org/#me"},
            },
        ],
    }
    assert authors_of(f'<script type="application/ld+json">{json.dumps(graph)}</script>') == [
        "Helge Fahrnberger"
    ]


def test_a_personal_sites_owner_named_like_the_site_is_its_author() -> None:
    """Yoast's graph declares "Frau Sabienes" the person frau-sabienes.de represents: her name spelling
    the host does not make her the publisher (a magazine's name would)."""
    owner = {
        "@type": ["Person", "Organization"],
        "@id": "https://frau-sabienes.de/#me",
        "name": "Frau Sabienes",
    }
    graph = {"@graph": [owner, {"@type": "Article", "author": {"@id": "https://frau-sabienes.de/#me"}}]}
    page = (
        f'<html><head><script type="application/ld+json">{json.dumps(graph)}</script></head>'
        f"<body><article>{TEXT}</article></body></html>"
    )
    assert extract_article(page, "https://frau-sabienes.de/konsumsparen-fazit/").authors == ["Frau Sabienes"]
    magazine = jsonld({"@type": "Person", "name": "Makronom"})
    page = f"<html><head>{magazine}</head><body><article>{TEXT}</article></body></html>"
    assert extract_article(page, "https://makronom.de/warum-45273").authors == []


def test_without_an_article_object_the_pages_own_author_counts() -> None:
    graph = {
        "@graph": [
            {"@type": "WebPage", "author": {"@id": "https://example.org/#jessie"}},
            {"@type": "Person", "@id": "https://example.org/#jessie", "name": "Jessie"},
        ]
    }
    assert authors_of(f'<script type="application/ld+json">{json.dumps(graph)}</script>') == ["Jessie"]


def test_an_author_hcard_names_its_author_even_by_one_word() -> None:
    byline = (
        '<span class="byline"> von <span class="author vcard">'
        '<a class="url fn n" href="/author/heiko/">Heiko</a></span></span>'
    )
    assert authors_of(byline=byline) == ["Heiko"]
    assert authors_of(byline='<span class="byline">von Heiko</span>') == []  # a bare word is no name


def test_a_link_to_the_authors_page_names_the_author_where_nothing_else_does() -> None:
    byline = (
        '<p class="meta">VON <a href="/autoren/gathmann-moritz">MORITZ GATHMANN</a> am 21. April 2020</p>'
    )
    assert authors_of(byline=byline) == ["MORITZ GATHMANN"]


def test_an_author_page_link_holding_a_photo_credit_names_the_author_once() -> None:
    byline = (
        '<span class="d-inline"><a href="/autoren/kathrin-fuehres-684124"><span class="profilbild"><div>'
        '<img alt="Kathrin Führes"><span class="credit">&copy; Kathrin Führes</span></div></span>'
        '<div class="name"><span itemprop="name">    Kathrin\n     Führes\n</span></div></a></span>'
    )
    assert authors_of(byline=byline) == ["Kathrin Führes"]


def test_an_author_page_link_in_a_comment_is_not_the_byline() -> None:
    comment = '<div class="comment"><a href="/author/sam-reader">Sam Reader</a> wrote: agreed.</div>'
    assert authors_of(byline=comment) == []


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ('<div class="meta">03.11.2021 <h5>Autor: </h5>Lena Hartwig/SP-X</div>', ["Lena Hartwig"]),
        (
            '<p class="info"><strong>Autor:</strong> <a href="/profil/7">Jonas Weller</a><br/>Tags: Bahn</p>',
            ["Jonas Weller"],
        ),
        ("<h5><em>Von Marta Keller und Ole Brandt</em></h5>", ["Marta Keller", "Ole Brandt"]),
        ('<span class="teaser-cat">von Ida Sommer</span>', ["Ida Sommer"]),
        (
            '<div class="dates">05.02.2020 <span>-&nbsp;Redaktion: Tom Berg (Pressesprecher)</span></div>',
            ["Tom Berg"],
        ),
        ("<p>Text: Nina Roth, Paul Adler und Eva Stein</p>", ["Nina Roth", "Paul Adler", "Eva Stein"]),
        (
            '<p><em>Written by: <a href="https://forests.example/63537">Julie Mollins</a></em></p>',
            ["Julie Mollins"],
        ),
        (
            '<div class="meta"><h4>Autor</h4><p><a href="/profil/es_detail/nh">Nikolai Huke</a></p></div>',
            ["Nikolai Huke"],
        ),
        (
            "<ul><li><div>Datum</div><div>31.01.2022</div></li><li><div>Autor</div><div>Peter Middel</div></li></ul>",
            ["Peter Middel"],
        ),
        ("<p>Blog Beitrag von Margarita Koreneva</p>", ["Margarita Koreneva"]),
        ("<p>Autoren Jelko Djuren und Jutta Klaukien</p>", ["Jelko Djuren", "Jutta Klaukien"]),
        ("<p><em>A guest post by Nadia Lorne</em></p>", ["Nadia Lorne"]),
        (
            '<div class="submitted">Gespeichert von <span>Rasmus Sohl</span> am 24. Juli 2017</div>',
            ["Rasmus Sohl"],
        ),
        (
            "<div class='f'><div class='field'><p class='label'><strong>By</strong></p></div><!-- field -->"
            "<div class='field'><p class='full-name'>Todd Bates</p></div></div>",
            ["Todd Bates"],
        ),
    ],
)
def test_a_line_that_starts_with_a_byline_label_names_the_author(byline: str, names: list[str]) -> None:
    assert authors_of(byline=byline) == names


@pytest.mark.parametrize(
    "byline",
    [
        "<h2>Von Berlin nach Hamburg</h2>",
        "<h1>By Jane Doe</h1>",  # a title, not a byline
        '<nav><a href="/x">Von Lisa Kraft</a></nav>',  # another story's teaser
        "<p>Von Anfang an war klar, dass die Behörde handeln muss.</p>",
        "<p>Authority figures: Jane Doe</p>",  # a label word must stand alone or before its colon
        '<span class="credit video-credit">By U.S. Customs and Border Protection</span>',  # a clip's credit
    ],
)
def test_a_label_in_a_heading_a_link_or_a_sentence_names_no_one(byline: str) -> None:
    assert authors_of(byline=byline) == []


def test_twitters_written_by_card_names_the_author() -> None:
    head = (
        '<meta name="twitter:label1" content="Verfasst von"><meta name="twitter:data1" content="Karla Winter">'
        '<meta name="twitter:label2" content="Geschätzte Lesezeit"><meta name="twitter:data2" content="3 Minuten">'
    )
    assert authors_of(head) == ["Karla Winter"]
    other = '<meta name="twitter:label1" content="Geschätzte Lesezeit"><meta name="twitter:data1" content="Karl Mai">'
    assert authors_of(other) == []


def test_a_sites_address_as_author_is_the_publisher_and_the_byline_names_the_author() -> None:
    head = '<meta name="author" content="nachrichten.example.de">'
    assert authors_of(head, '<div class="byline">Von Jana Roth und Lea Wolf</div>') == [
        "Jana Roth",
        "Lea Wolf",
    ]
    assert authors_of(head) == []
    assert names_in(["jungle.world"]) == []


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        (
            '<span class="field-contributor">Par&nbsp;<a href="/node/marc-aubry">Marc Aubry</a></span>',
            ["Marc Aubry"],
        ),
        (
            '<p><em>Von <span itemscope itemtype="http://schema.org/Person">Greta Lind</span></em></p>',
            ["Greta Lind"],
        ),
    ],
)
def test_a_label_alone_before_the_name_element_names_the_author(byline: str, names: list[str]) -> None:
    assert authors_of(byline=byline) == names


def test_a_bold_name_alone_under_the_text_signs_the_article() -> None:
    """A sports report signed by its writer in a paragraph of its own, bold and italic, after the text."""
    page = (
        "<html><head><title>Story</title></head><body><article>"
        f"{TEXT}<p><b><i>Stefan Wasmer</i></b></p></article></body></html>"
    )
    assert extract_article(page, URL).authors == ["Stefan Wasmer"]


def test_a_bold_subheading_over_more_text_names_no_one() -> None:
    """ "<p><strong>Gesellschaftliche Problemfelder</strong></p>" opens a section: it is no signature."""
    page = (
        "<html><head><title>Story</title></head><body><article>"
        f"<p><strong>Gesellschaftliche Problemfelder</strong></p>{TEXT}</article></body></html>"
    )
    assert extract_article(page, URL).authors == []


def test_json_ld_naming_the_first_of_two_authors_yields_to_the_meta_naming_both() -> None:
    head = jsonld({"@type": "Person", "name": "April Roach"}) + (
        '<meta name="author" content="April Roach, Daniel O&#39;Mahony">'
    )
    assert authors_of(head) == ["April Roach", "Daniel O'Mahony"]


def test_meta_putting_the_publisher_before_json_lds_author_is_not_read() -> None:
    head = jsonld({"@type": "Person", "name": "Marie Merlet"}) + (
        '<meta name="author" content="Prisma Média, Marie Merlet">'
    )
    assert authors_of(head) == ["Marie Merlet"]


def test_the_sites_own_name_as_author_is_the_publisher() -> None:
    """ "Automobilwoche" on www.automobilwoche.de names the publisher; a blog's login on a shared host names its author."""
    page = (
        "<html><head><title>Story</title>{head}</head><body><article>{byline}"
        f"{TEXT}</article></body></html>"
    )
    named = page.format(head='<meta name="author" content="Automobilwoche">', byline="")
    assert extract_article(named, "https://www.automobilwoche.de/news/vw-1").authors == []
    behind = page.format(
        head='<meta name="author" content="Makronom">', byline='<p class="author">Clara Löw</p>'
    )
    assert extract_article(behind, "https://makronom.de/warum-45273").authors == ["Clara Löw"]
    paper = page.format(
        head='<meta name="author" content="El Colombiano">',
        byline='<p class="byline">Jacobo Betancur Peláez</p>',
    )
    assert extract_article(paper, "https://www.elcolombiano.com/antioquia/x").authors == [
        "Jacobo Betancur Peláez"
    ]
    blog = page.format(head='<meta name="author" content="Zahlenzauberin">', byline="")
    assert extract_article(blog, "https://zahlenzauberin.wordpress.com/2012/08/22/ferien/").authors == [
        "Zahlenzauberin"
    ]


def test_where_meta_tags_disagree_the_one_the_byline_shows_wins() -> None:
    head = '<meta name="author" content="Condé Nast"><meta property="article:author" content="Larry Fitzmaurice">'
    byline = '<p class="byline">By <a rel="author" href="/staff/larry">Larry Fitzmaurice</a></p>'
    assert authors_of(head, byline) == ["Larry Fitzmaurice"]
    assert authors_of(head) == ["Condé Nast", "Larry Fitzmaurice"]  # no byline to decide: both kept


def test_a_meta_tag_naming_someone_the_page_never_shows_yields_to_the_byline() -> None:
    """Found on a Prospect page: Twitter's "Written by" label named an editor; the byline, the writer."""
    head = (
        '<meta name="twitter:label1" content="Written by"><meta name="twitter:data1" content="Sameer Rahim">'
    )
    byline = '<p class="byline">By <a class="author">Duncan Bell</a></p>'
    assert authors_of(head, byline) == ["Duncan Bell"]
    shown = '<p class="byline">By <a class="author">Duncan Bell</a>, edited by Sameer Rahim</p>'
    assert authors_of(head, shown) == ["Sameer Rahim"]  # the page shows the tag's name too: the tag stays
    assert authors_of(head) == ["Sameer Rahim"]  # no byline to weigh it against


def test_json_lds_poster_yields_to_the_writers_the_byline_and_meta_tags_both_name() -> None:
    """Found on a TV station's page: JSON-LD named the account that posted the story, shown nowhere;
    the byline and Parse.ly's tags named the two reporters."""
    poster = jsonld({"@type": "Person", "name": "Kathleen Ditton"})
    byline = (
        '<p class="byline">By <a rel="author" href="/author/jessica-holly/">Jessica Holly</a>, '
        '<a rel="author" href="/author/gail-levy/">Gail Levy</a></p>'
    )
    tags = (
        '<meta name="parsely-author" content="Jessica Holly"><meta name="parsely-author" content="Gail Levy">'
    )
    assert authors_of(poster + tags, byline) == ["Jessica Holly", "Gail Levy"]
    # The byline alone is no second source (it may be a desk's or a photographer's): JSON-LD stays.
    assert authors_of(poster, byline) == ["Kathleen Ditton"]


def test_an_author_value_ending_with_a_country_is_an_organisation() -> None:
    for value in ("GIROMATCH, Frankfurt a. M., Germany", "Diakonie Deutschland", "Caritas Österreich"):
        assert authors_of(f'<meta name="author" content="{value}">') == [], value
    # A country's name elsewhere in a value, or one that is also a surname, is no organisation.
    assert authors_of('<meta name="author" content="Anatole France, Germany Kent Smith">') == [
        "Anatole France",
        "Germany Kent Smith",
    ]


def test_a_name_written_surname_first_is_turned_where_the_page_shows_it_turned() -> None:
    head = '<meta name="parsely-author" content="Gillman, Steve">'
    assert authors_of(head, '<p class="byline">By Steve Gillman</p>') == ["Steve Gillman"]
    assert authors_of('<meta name="author" content="Ann Lee, Bo Chan">') == ["Ann Lee", "Bo Chan"]


def test_the_sites_name_among_people_is_dropped_but_alone_it_stays() -> None:
    site = '<meta property="og:site_name" content="The Daily Example">'
    assert authors_of(site + '<meta name="author" content="Sam Stein, The Daily Example">') == ["Sam Stein"]
    assert authors_of(site + '<meta name="author" content="The Daily Example">') == ["The Daily Example"]


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        # A byline box: the name in one element, an "Alle Artikel" link in the next (both capitalised words).
        (
            '<div class="author-box">\n<div class="title-small">Johanna Kropfitsch</div>\n'
            '<div class="moreinfo"><a href="/search?author=jk">Alle Artikel</a></div>\n</div>',
            ["Johanna Kropfitsch"],
        ),
        # A clock with its zone and a share button's label on the lines under the name.
        (
            '<div class="story-meta__authors-timestamp"><p>By Michael Stratford</p>'
            "<p>10/17/2022 04:01 PM EDT</p><p>Link Copied</p></div>",
            ["Michael Stratford"],
        ),
        # After the publisher comes its desk or the dateline, not a name.
        ('<p class="byline">By Nada Tawfik, BBC News, New York</p>', ["Nada Tawfik"]),
    ],
)
def test_a_byline_gives_its_names_and_nothing_around_them(byline: str, names: list[str]) -> None:
    assert authors_of(byline=byline) == names


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ('<span class="writer">&#x677E;&#x6751;&#x592A;&#x90CE;</span>', ["松村太郎"]),  # 松村太郎
        ('<p class="byline">記者 张三、李四</p>', ["张三", "李四"]),
        ('<p class="byline">홍길동 기자</p>', ["홍길동"]),
        ('<p class="byline">文：松村太郎</p>', ["松村太郎"]),
        ('<p class="byline">取材・文/山田花子</p>', ["山田花子"]),
        ('<p class="byline">文在寅</p>', ["文在寅"]),
        ('<p class="byline">ZDNet Japan 編集部</p>', []),
    ],
)
def test_a_cjk_byline_names_people_written_without_capitals_or_spaces(byline: str, names: list[str]) -> None:
    assert authors_of(byline=byline) == names


def test_an_advertisements_label_in_a_bylines_place_is_no_one() -> None:
    """Found on a trafilatura-eval forum page: a sponsored post's label where the poster's name goes."""
    assert authors_of(byline='<div class="postauthor"><strong>Gesponserte Inhalte</strong></div>') == []


@pytest.mark.parametrize("label", ["Anzeige", "Advertisement", "sponsored content"])
def test_an_advertisements_label_in_the_author_tag_is_no_one(label: str) -> None:
    # A meta tag may name one word or a lower-case login; these labels are neither.
    assert authors_of(f'<meta name="author" content="{label}">') == []


def _teaser_card(headline: str, href: str, byline: str, kicker: str = "", by: str = "By ") -> str:
    kicker_html = f"<h3>{kicker}</h3>" if kicker else ""
    return (
        f'<li><div class="card">{kicker_html}<h2><a href="{href}">{headline}</a></h2>'
        f'<span class="byline">{by}<a class="byline" href="/author/x">{byline}</a></span></div></li>'
    )


def _page(sidebar: str, article: str) -> str:
    return (
        f"<html><head><title>Story</title></head><body><aside><ul>{sidebar}</ul></aside>"
        f"<article><h1>Story</h1>{article}{TEXT}</article></body></html>"
    )


def test_a_sidebar_teasers_byline_is_not_the_articles() -> None:
    """Found on a D Magazine page (mercury): "Most read" bylines come first in the page, the article's
    byline is a plain link to the author's page."""
    sidebar = _teaser_card("Hot property", "/home/2016/12/hot-property/", "Caitlin Clark") + _teaser_card(
        "Events this week", "/arts/2016/11/events/", "Catherine Downes", kicker="Listings"
    )
    article = '<div class="story__info"><span>By <a href="/author/kathy-wise">Kathy Wise</a></span></div>'
    assert extract_article(_page(sidebar, article), URL).authors == ["Kathy Wise"]


def test_a_teaser_whose_author_is_set_as_a_heading_is_still_a_teaser() -> None:
    card = (
        '<li><div class="card"><h2><span class="byline">John Roe</span></h2>'
        '<h2><a href="/opinion/2026/01/other.html">Another variant is coming, and the world must prepare</a></h2>'
        '<p>By <span class="byline">John Roe</span></p></div></li>'
    )
    article = '<p>By <a href="/author/ann-lee">Ann Lee</a></p>'
    assert extract_article(_page(card, article), URL).authors == ["Ann Lee"]


def test_on_a_listing_page_the_first_entrys_byline_names_someone() -> None:
    entries = _teaser_card("First post", "/blog/first/", "Uwe Riebe", by="") + _teaser_card(
        "Second post", "/blog/second/", "Tom Stelling", by=""
    )
    assert extract_article(_page(entries, ""), URL).authors == ["Uwe Riebe"]


def test_a_headline_linking_to_its_own_page_signs_no_teaser() -> None:
    own = f'<li><div class="card"><h2><a href="{URL}">Story</a></h2><span class="byline">By Ann Lee</span></div></li>'
    other = _teaser_card("Other story", "/2026/01/other.html", "John Roe")
    assert extract_article(_page(other + own, ""), URL).authors == ["Ann Lee"]


def test_json_ld_giving_only_the_bylines_first_name_yields_to_the_byline() -> None:
    """Found on a trafilatura-eval page: JSON-LD's author was the login "Todd", the byline "By Todd Bates"."""
    byline = "<div><div><p class='label'>By</p></div><div><p class='full-name'>Todd Bates</p></div></div>"
    assert authors_of(jsonld({"@type": "Person", "name": "Todd"}), byline) == ["Todd Bates"]
    assert authors_of(jsonld({"@type": "Person", "name": "Todd"}), "<p>By Anna Bates</p>") == ["Todd"]


def test_json_ld_giving_the_bylines_name_run_together_yields_to_the_byline() -> None:
    """Found on a trafilatura-eval page: JSON-LD's author was the login "arianschlichenmayer"."""
    byline = (
        "<div class='single-post--header_author'><span>von</span> "
        "<a href='/creator/arian-schlichenmayer/'>Arian Schlichenmayer</a></div>"
    )
    assert authors_of(jsonld({"@type": "Person", "name": "arianschlichenmayer"}), byline) == [
        "Arian Schlichenmayer"
    ]


@pytest.mark.parametrize(
    "value",
    [
        "Pressemitteilung von Katja Kipping",
        "Ein Gastbeitrag von Katja Kipping",
        "A guest post by Katja Kipping",
    ],
)
def test_what_the_post_is_before_whose_it_is_is_a_label(value: str) -> None:
    assert names_in([value]) == ["Katja Kipping"]
