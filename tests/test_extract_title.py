"""The headline as the page presents it: declared titles and ``<title>`` cut to what the page confirms."""

from __future__ import annotations

import json

import lxml.html
import pytest

from crawlers import extract_article

TEXT = "The regulator opened an investigation into the platform after complaints from parents. " * 4


def title_of(head: str, body: str, url: str = "https://news.example.org/2026/01/story.html") -> str:
    page = f"<html><head>{head}</head><body>{body}<p>{TEXT}</p></body></html>"
    return extract_article(page, url, min_body_chars=0).title


def test_a_lone_section_h1_does_not_beat_the_title_tag() -> None:
    """Found on a real blog page: the only <h1> named the section, <title> the post."""
    text = "Die Bibliothek öffnet ab April auch samstags, betreut von Ehrenamtlichen. " * 5
    page = (
        "<html><head><title>Neue Öffnungszeiten der Bibliothek | Vereinsblog</title></head><body>"
        f"<h1>Neuigkeiten</h1><h2>Neue Öffnungszeiten der Bibliothek</h2><p>{text}</p></body></html>"
    )
    assert extract_article(page, "https://verein.example/a", min_body_chars=0).title == (
        "Neue Öffnungszeiten der Bibliothek"
    )
    shortened = page.replace("<h1>Neuigkeiten</h1>", "<h1>Neue Öffnungszeiten der Bibliothek ab April</h1>")
    assert extract_article(shortened, "https://verein.example/a", min_body_chars=0).title == (
        "Neue Öffnungszeiten der Bibliothek ab April"
    )


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        (
            "Chelsea hoping to sign Anelka - Soccer - Sport - Breaking News - Belfast Telegraph",
            "<h1>Chelsea hoping to sign Anelka</h1>",
        ),
        (
            "SFGate: World Views : Another political murder in Lebanon",
            '<div class="hd">Another political murder in Lebanon</div>',
        ),
        ("Typhoon evacuations ordered_English_Xinhua", "<b>Typhoon evacuations ordered</b>"),
        ("GlossLip » Idol skips jail, goes to rehab", "<h2>Idol skips jail, goes to rehab</h2>"),
        (
            "Korean golfer wins 7th PGA title(The Korea Times)",
            "<td><b>Korean golfer wins 7th PGA title</b></td>",
        ),
    ],
)
def test_the_title_is_the_part_the_page_shows_as_its_headline(title: str, shown: str) -> None:
    headline = lxml.html.fragment_fromstring(shown).text_content()
    assert title_of(f"<title>{title}</title>", f"<nav><a href='/'>Home</a></nav>{shown}") == headline


def test_a_menu_entry_never_makes_a_headline_and_the_site_name_is_dropped() -> None:
    head = "<title>Sport | Test cricket tour goes ahead | METimes.com</title>"
    body = "<nav><ul><li>Sport</li><li>World</li></ul></nav>"
    assert title_of(head, body, "https://www.metimes.com/sport/1") == "Test cricket tour goes ahead"


def test_a_headline_naming_the_site_keeps_the_name() -> None:
    head = "<title>Ofcom launches investigation into X | Ofcom</title>"
    assert title_of(head, "<h1>Ofcom launches investigation into X</h1>", "https://www.ofcom.org.uk/n") == (
        "Ofcom launches investigation into X"
    )


def test_a_declared_section_name_shown_in_the_banner_yields_to_the_h1() -> None:
    head = (
        '<title>Press corner | European Commission</title><meta property="og:title" content="Press corner">'
    )
    body = "<header><a href='/'>Press corner</a></header><h1>Commission fines Meta for breaching the DMA</h1>"
    assert title_of(head, body) == "Commission fines Meta for breaching the DMA"


def test_a_title_swallowing_the_page_is_not_a_headline() -> None:
    broken = (
        "Gale to drive Nation'?' + OAS_query + '\"><\\/SCRIPT>'); function OAS_AD(pos) { if (x) { y(); } }"
    )
    assert title_of(f"<title>{broken}</title>", "<h1>Gale to drive Nationwide car</h1>") == (
        "Gale to drive Nationwide car"
    )


def test_a_json_ld_headline_cut_with_an_ellipsis_yields_to_the_whole_one() -> None:
    whole = "Regulator opens investigation into the platform after a year of complaints from parents"
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Regulator opens '
        'investigation into the platform after a year…"}</script>'
        f'<meta property="og:title" content="{whole}">'
    )
    assert title_of(head, f"<h1>{whole}</h1>") == whole


def test_a_declared_section_name_shown_nowhere_else_yields_to_the_lone_h1() -> None:
    head = (
        '<title>Press corner | European Commission</title><meta property="og:title" content="Press corner">'
    )
    body = (
        '<div class="page-header"><span>Press release</span><span>4 February 2026</span>'
        "<h1>Commission fines Meta for breaching the DMA</h1></div>"
    )
    assert title_of(head, body) == "Commission fines Meta for breaching the DMA"


def test_a_sections_name_in_the_title_yields_to_the_pages_one_headline() -> None:
    """Found by the crawl tests (a Parliament statement): <title> starts with the section's name,
    which the page also shows as a heading; the lone h1 is the statement's own title."""
    head = "<title>Written statements - Written questions, answers and statements - UK Parliament</title>"
    body = "<h2>Written statements</h2><h1>Online Safety Act: Categorisation Thresholds</h1>"
    assert title_of(head, body) == "Online Safety Act: Categorisation Thresholds"


def test_a_title_tag_naming_the_site_shares_no_word_with_a_menu_or_standfirst_through_the_site_or_in() -> (
    None
):
    """A <title> that is the site's name and motto: a menu heading naming the site ("-- NEWSDESK.COM
    FEATURES --") and a standfirst sharing only "in" with it are not the headline the page shows."""
    head = "<title>Newsdesk.com: #1 in College Sports</title>"
    body = (
        '<div class="subnav_title"> -- NEWSDESK.COM FEATURES -- </div>'
        "<h1>Harden earns player of the week</h1>"
        "<h2>Freshman only player in the league ranked in the top ten of each shooting category.</h2>"
        + "<p>Harden was named player of the week after scoring 30 points twice; the freshman earns the"
        " award for the first time this season, ahead of every senior in the conference.</p>" * 3
    )
    assert title_of(head, body, "https://www.newsdesk.com/sports/stories/010708aab.html") == (
        "Harden earns player of the week"
    )


BAN_STORY = (
    "<p>Britain introduced a ban on advertising junk food to children yesterday, aimed at promoting"
    " healthy eating; the advertising ban covers every channel and comes into force in stages.</p>"
) * 3


def test_a_table_inside_a_title_cell_is_not_the_headlines_text() -> None:
    """A 2008 layout: the title cell holds the dateline in a table of its own."""
    head = "<title>Gulf Times - Qatar's top-selling English daily newspaper - Britain/Ireland</title>"
    body = (
        '<table><tr><td class="articalTitle">Junk food advertising ban comes into force'
        '<table><tr><td class="dates">Published: Wednesday, 2 January, 2008, 02:42 AM Doha Time</td></tr>'
        f"</table></td></tr><tr><td>{BAN_STORY}</td></tr></table>"
    )
    assert title_of(head, body, "https://www.gulf-times.com/site/topics/article.asp?item_no=193311") == (
        "Junk food advertising ban comes into force"
    )


def test_a_style_sheet_inside_the_story_heading_is_not_its_text() -> None:
    head = '<meta property="og:title" content="Press releases">'
    body = (
        "<h1><style>.css-umyvef{font-size:16px;display:block;}</style>"
        f"Junk food advertising ban comes into force</h1>{BAN_STORY}"
    )
    assert title_of(head, body) == "Junk food advertising ban comes into force"


def test_the_title_a_feed_gave_wins_over_the_title_tag_when_the_page_shows_it() -> None:
    page = (
        "<html><head><title>News | Example</title></head><body><h2>News</h2>"
        f"<h3>Watchdog opens inquiry</h3><h3>Other story</h3><p>{TEXT}</p></body></html>"
    )
    article = extract_article(
        page, "https://e.example/a", min_body_chars=0, fallback={"title": "Watchdog opens inquiry"}
    )
    assert article.title == "Watchdog opens inquiry"


def test_a_separator_left_dangling_at_the_end_goes() -> None:
    """A real page's <title>: "Pferdesport definitiv bei Olympia 2028 dabei - " with the site's name after it gone."""
    head = "<title>Olympia 2028: riding stays in the Games -</title>"
    assert title_of(head, "<h1>Olympia 2028: riding stays in the Games -</h1>") == (
        "Olympia 2028: riding stays in the Games"
    )


def test_a_guillemet_opening_a_quoted_headline_is_no_dangling_separator() -> None:
    """A real page's headline quotes someone: « … ». Only its opening mark used to go, leaving "… »"."""
    quoted = "« Il y a, d'abord, le poids de la géographie ». Sur les migrations"
    head = f'<meta property="og:title" content="{quoted}"><title>{quoted} - Le Grand Continent</title>'
    assert title_of(head, f"<h1>{quoted}</h1>") == quoted
    assert title_of("<title>Migrations » Le Grand Continent</title>", "<h1>Migrations</h1>") == "Migrations"


def test_data_declared_as_a_headline_is_not_one() -> None:
    """A review site's JSON-LD ``headline`` holding a JSON object: the page's own heading names it."""
    data = '{"businessUnitDisplayName":"example.org","consumerName":"Mrs H Pyke","isVerified":true}'
    ld = json.dumps({"@type": "NewsArticle", "headline": data})
    head = f'<title>Changed my life | Reviews</title><script type="application/ld+json">{ld}</script>'
    assert title_of(head, "<h1>Changed my life</h1>") == "Changed my life"


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        # A section glued to its dash or colon, the space only after it (found on L3S-GN1's dev pages).
        ("edmontonsun.com -\nMusic-\nLavigne lawsuit settled", "Lavigne lawsuit settled"),
        (
            "WHO TV - Des Moines: Research confirms prairie grass could be good",
            "Research confirms prairie grass could be good",
        ),
        # A breadcrumb trail of ">" and a "--" before the headline.
        (
            "SignOnSanDiego.com > News > World -- Judges allow video of victims",
            "Judges allow video of victims",
        ),
    ],
)
def test_glued_and_breadcrumb_separators_cut_the_title(title: str, shown: str) -> None:
    assert title_of(f"<title>{title}</title>", f"<div><h5>{shown}</h5></div>") == shown


def test_a_glued_colon_stays_when_the_page_shows_the_whole_title() -> None:
    """The new separators only offer shorter runs: a headline the page shows with its colon keeps it."""
    assert title_of(
        "<title>CES: iSleep to iDream with iPod-ready bed</title>",
        "<h1>CES: iSleep to iDream with iPod-ready bed</h1>",
    ) == ("CES: iSleep to iDream with iPod-ready bed")


def ld(headline: str) -> str:
    return f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", "headline": headline})}</script>'


def test_a_title_shown_whole_with_the_hosts_name_loses_the_name() -> None:
    """A share link shows "Headline | Wolfgang Michal" on wolfgangmichal.de: the name is not the headline's."""
    title = "Publizistische Sorgfaltspflicht statt Netzwerkdurchsetzungsgesetz | Wolfgang Michal"
    body = f"<h1>Publizistische Sorgfaltspflicht statt Netzwerkdurchsetzungsgesetz</h1><p><a>{title}</a></p>"
    assert title_of(f"<title>{title}</title>", body, "https://www.wolfgangmichal.de/2017/06/x/") == (
        "Publizistische Sorgfaltspflicht statt Netzwerkdurchsetzungsgesetz"
    )


def test_a_kicker_naming_the_host_inside_a_word_stays() -> None:
    """ "Frauen im THW" on thw.de is the headline's kicker, not the site's name."""
    title = "Frauen im THW: Vergangenheit, Gegenwart und Zukunft"
    body = f"<h1>{title}</h1><p><a>Frauen im THW</a></p>"
    assert title_of(f"<title>{title}</title>", body, "https://www.thw.de/x") == title


def test_json_ld_kicker_is_dropped_when_the_page_shows_the_headline_alone() -> None:
    head = ld("Kücknitz - So lief die Auktion der Schätzchen von St. Johannes")
    body = "<h1>So lief die Auktion der Schätzchen von St. Johannes</h1>"
    assert title_of(head, body) == "So lief die Auktion der Schätzchen von St. Johannes"


def test_json_ld_entities_and_a_site_name_of_several_parts_are_removed() -> None:
    site = "☆☆☆☆☆ - Journalistenwatch e.V. - Aktuelle Geschehnisse"
    head = (
        ld(f"Ladensterben immer dramatischer &raquo; {site}")
        + f'<meta property="og:site_name" content="{site}">'
    )
    assert title_of(head, "<div>Ladensterben</div>") == "Ladensterben immer dramatischer"


def test_a_share_links_title_names_the_article_of_a_page_without_one() -> None:
    """L3S-GN1's BBC pages lost their <title>; their bookmark links and a headline div still carry it."""
    share = "".join(
        f'<a href="http://{host}/submit?url=https%3A%2F%2Fnews.example.org%2Fa&amp;title=Gulf+states+urge+peace+with+Iran">'
        f"{host}</a>"
        for host in ("digg.com", "reddit.com")
    )
    body = f'<h3>Bookmark with:</h3>{share}<div class="sh">Gulf states urge peace with Iran</div>'
    assert title_of("", body) == "Gulf states urge peace with Iran"


def test_a_share_links_title_the_page_does_not_show_is_ignored() -> None:
    share = '<a href="https://twitter.com/share?t=Something+else+entirely">Tweet</a>'
    assert (
        title_of("", f"<h3>Bookmark with:</h3>{share}<h2>Our headline here</h2>") != "Something else entirely"
    )


STORY = (
    "The county council voted on Tuesday to build a flood barrier along the river, after two winters "
    "in which the water reached the high street. The barrier will cost 4 million and should be "
    "finished before next autumn, the council's engineer said. Residents who lost their shops in "
    "the last flood asked the council to hurry: the barrier plan had been waiting for a vote for "
    "three years. "
)


def story_page(title: str, story_heading: str, *, before: str = "", after: str = "") -> str:
    """A 2008-style news page: menus, the story under a heading of its own, then more menus."""
    return (
        f"<html><head><title>{title}</title></head><body>"
        "<table><tr><td><h1>HOT JOBS</h1><a href='/jobs'>Nurses wanted</a> <a href='/jobs/2'>Drivers</a>"
        "<h1>COUPONS</h1><a href='/c'>View more</a></td>"
        f"<td>{before}{story_heading}<p>{STORY}</p><p>{STORY}</p>{after}</td></tr></table>"
        "</body></html>"
    )


@pytest.mark.parametrize(
    ("title", "heading"),
    [
        # only the paper's name and a build number
        ("Riverside Daily News - 6.0", '<span class="headline">Council votes for flood barrier</span>'),
        # the site and its tagline
        ("sportsdesk - Latest football news, transfers, reports", "<h3>Barrier plan wins council vote</h3>"),
        # a section's generic label, the story's heading a bold cell
        ("Riverside Online", '<div class="storyTitle">Flood barrier approved after three years</div>'),
    ],
)
def test_a_title_naming_only_the_site_yields_to_the_heading_that_leads_the_story(
    title: str, heading: str
) -> None:
    page = story_page(title, heading, before='<div class="headline-date">Published - Sunday</div>')
    expected = lxml.html.fragment_fromstring(heading).text_content()
    assert extract_article(page, "https://www.riverside.example/a/1.txt", min_body_chars=0).title == expected


def test_a_title_that_tells_the_story_is_kept_beside_another_heading() -> None:
    """The <title> names the story in other words than the heading over the text: it is kept."""
    page = story_page("Flood barrier to protect high street shops", "<h2>What the council decided</h2>")
    assert extract_article(page, "https://www.riverside.example/a/2", min_body_chars=0).title == (
        "Flood barrier to protect high street shops"
    )


def test_a_heading_whose_words_the_text_does_not_use_does_not_replace_the_title() -> None:
    """A "Don't miss" box over a long teaser list is no story's heading."""
    page = story_page("Riverside Daily News", "<h2>Don't miss these offers</h2>")
    assert extract_article(page, "https://www.riverside.example/a/3", min_body_chars=0).title == (
        "Riverside Daily News"
    )


def test_a_title_shown_only_as_a_section_link_yields_to_the_heading_that_leads_the_story() -> None:
    """A 2008 news page: its <title> names the section ("News Update Service"), which the page shows
    as a heading that links to the section's index, over no text; the story's heading leads the text.
    The same heading as plain text, or linked to the page itself (a post's title linked to its
    permalink, over a cookie notice's long text on a real blog page), is the page's own: it stays."""
    story_heading = '<font class="storyhead">Council votes for flood barrier</font>'
    linked = story_page(
        "News Update Service",
        story_heading,
        before='<font class="sectionhead"><a href="/holnus/">News Update Service</a></font>',
    )
    url = "https://www.riverside.example/holnus/1.htm"
    assert extract_article(linked, url, min_body_chars=0).title == "Council votes for flood barrier"
    plain = linked.replace('<a href="/holnus/">News Update Service</a>', "News Update Service")
    assert extract_article(plain, url, min_body_chars=0).title == "News Update Service"
    permalink = linked.replace('href="/holnus/"', 'href="/holnus/1.htm"')
    assert extract_article(permalink, url, min_body_chars=0).title == "News Update Service"


def test_a_title_that_is_the_hosts_name_yields_even_where_the_story_names_the_paper() -> None:
    """ "Riverside Daily Herald" on riversidedailyherald.com, in a story quoting the paper."""
    page = story_page(
        "Riverside Daily Herald",
        "<h2>Council votes for flood barrier</h2>",
        after="<p>Riverside readers wrote to the Daily Herald about the barrier all winter.</p>",
    )
    url = "https://www.riversidedailyherald.com/news/1.txt"
    assert extract_article(page, url, min_body_chars=0).title == "Council votes for flood barrier"


def test_an_og_title_that_is_the_h1_beats_a_json_ld_headline_in_other_words() -> None:
    """The SEO headline in JSON-LD and <title>, the one the page shows in og:title and its <h1>."""
    shown = "As his first debate nears, the mayor is having to answer about his past"
    head = (
        ld("Former mayor is having to answer questions about his past")
        + f'<meta property="og:title" content="{shown}">'
        + "<title>Former mayor is having to answer questions about his past - Riverside Times</title>"
    )
    body = f'<h1 class="ArticlePage-headline">{shown}</h1>'
    assert title_of(head, body) == shown


def test_an_og_title_that_is_the_h1_is_kept_whole_though_it_holds_the_sites_name() -> None:
    """ "Wir sind NEOS" on neos.eu: the headline holds the host's name and a bogus site name is declared."""
    head = (
        '<meta property="og:title" content="Wir sind NEOS"><meta property="og:site_name" content="Start">'
        "<title>Wir sind NEOS - NEOS</title>"
    )
    assert title_of(head, "<h1>Wir sind NEOS</h1>", "https://www.neos.eu/wir-sind-neos") == "Wir sind NEOS"


def test_a_date_shown_as_a_heading_does_not_lead_the_story() -> None:
    """A magazine page's date is set as a heading over the text, its headline (in words the text does
    not use) only in the <title>: the headline stays."""
    head = "<title>A town learns patience — www.riverside.de</title>"
    page = f"<html><head>{head}</head><body><h3>28. Jan. 2022</h3><p>{STORY}</p><p>{STORY}</p></body></html>"
    url = "https://www.riverside.de/magazin/flood-barrier/"
    assert extract_article(page, url, min_body_chars=0).title == "A town learns patience"


def test_a_one_word_title_the_page_does_not_show_yields_to_its_one_headline() -> None:
    """A blog whose <title> is "Home" on every page, its post under the page's one <h1>."""
    assert title_of("<title>Home</title>", "<h1>Time to say goodbye.</h1>", "https://blog.example/") == (
        "Time to say goodbye."
    )


def test_a_headline_declared_as_the_sites_name_is_still_the_headline() -> None:
    """msn's application-name holds the headline: a long "site name" shown as the <h1> names no site."""
    headline = "University halls too full to be safe, experts warn"
    head = f'<meta name="application-name" content="{headline}"><title>{headline}</title>'
    body = (
        f"<h1>{headline}</h1><h2>Doctor suggests that students might not be able to return home</h2>"
        f"<p>{STORY}</p><p>{STORY}</p>"
    )
    assert title_of(head, body, "https://www.portal.example/en-gb/news/ar-1") == headline


def test_a_json_ld_headline_the_page_shows_nowhere_yields_to_its_one_h1() -> None:
    """An editor's shorter headline for feeds in JSON-LD; the page shows another in its <h1>."""
    shown = "Der Nervenkrieg um den Brexit geht in die nächste Runde"
    head = ld("Brexit: Nervenkrieg geht in nächste Runde")
    assert title_of(head, f"<h1>{shown}</h1>") == shown


def test_a_json_ld_headline_the_h1_holds_after_a_kicker_stays() -> None:
    """ "<h1><span>Immobilienkrise</span> Headline</h1>": the kicker is not the headline's."""
    headline = "Signa in Sorge – Finanzdaten und Berater-Auftrag"
    head = ld(headline)
    assert title_of(head, f"<h1><span>Immobilienkrise</span> {headline}</h1>") == headline


def test_a_full_width_colon_cuts_a_japanese_sites_name() -> None:
    title, shown = (
        "連休中の情報セキュリティに関する注意喚起：情報処理推進機構",
        "連休中の情報セキュリティに関する注意喚起",
    )
    assert title_of(f"<title>{title}</title>", f"<div><h1>{shown}</h1></div>") == shown


def test_a_label_only_a_screen_reader_hears_is_not_part_of_the_h1() -> None:
    head = (
        '<title>Energy transition | Institute</title><meta property="og:title" content="Energy transition">'
    )
    body = '<h1><span class="visuallyhidden">Headline:</span> Energy transition</h1>'
    assert title_of(head, body) == "Energy transition"


@pytest.mark.parametrize(
    "jsonld", ["Climate: Drilling until it gets hot", ""], ids=["declared in JSON-LD", "declared in og:title"]
)
def test_a_kicker_set_apart_from_the_headline_for_the_eye_is_not_the_headline(jsonld: str) -> None:
    """Every declared title tells "Kicker: Headline"; the page shows the kicker as a label over the headline."""
    head = '<title>Climate: Drilling until it gets hot | Weekly</title><meta property="og:title" content="Climate: Drilling until it gets hot">'
    if jsonld:
        head += f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", "headline": jsonld})}</script>'
    body = (
        '<h1><span class="kicker">Climate</span><span class="visually-hidden">: </span>'
        "<span>Drilling until it gets hot</span></h1>"
    )
    assert title_of(head, body) == "Drilling until it gets hot"


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        (
            "Intel NUCで最新SSDを比較してみた：さらば平成 - ITmedia",
            '<h1><span>Intel NUCで最新SSDを比較してみた</span><i class="delimiter">：</i><i>さらば平成</i></h1>',
            "Intel NUCで最新SSDを比較してみた：さらば平成",
        ),
        (  # a first part whose own class says title is no kicker, though what follows says title too
            "Kleine Rechner im Vergleich: Abschied vom Wasser - Technik",
            '<h1 class="title"><span class="title__maintext">Kleine Rechner im Vergleich</span>'
            '<i class="title__delimiter">: </i><i class="title__subtitle">Abschied vom Wasser</i></h1>',
            "Kleine Rechner im Vergleich: Abschied vom Wasser",
        ),
    ],
)
def test_a_heading_set_in_parts_reads_whole_without_a_screen_reader_separator(
    title: str, body: str, expected: str
) -> None:
    assert title_of(f"<title>{title}</title>", body) == expected


def test_the_sites_name_on_its_link_home_never_makes_the_headline() -> None:
    head = "<title>Sheep basics | The Sheep Comic – Webcomic</title>"
    body = (
        '<h1 id="site-title"><a href="https://comic.example.org/" rel="home" title="The Sheep Comic – Webcomic">'
        "The Sheep Comic – Webcomic</a></h1><h1 class='entry-title'>Sheep basics</h1>"
    )
    assert title_of(head, body, "https://comic.example.org/basics/") == "Sheep basics"


@pytest.mark.parametrize(
    ("title", "heading", "expected"),
    [
        (
            "American Idol to dominate strike-hit U.S. TV | Entertainment | Reuters",
            '"American Idol" to dominate strike-hit U.S. TV',
            '"American Idol" to dominate strike-hit U.S. TV',
        ),
        ("Is the Act working | Weekly", "Is the Act working?", "Is the Act working?"),
        ("mediaarchitecture.de // » Jens Weber", "[> Jens Weber", "Jens Weber"),
    ],
)
def test_the_headline_keeps_the_quotes_and_marks_its_heading_shows(
    title: str, heading: str, expected: str
) -> None:
    """The <title>'s words, punctuated as the page's heading is; arrows and brackets setting the heading off are not the headline's."""
    assert title_of(f"<title>{title}</title>", f"<h2>{heading}</h2>") == expected


def test_a_title_shown_whole_yields_to_its_part_shown_as_the_heading() -> None:
    """Found on L3S-GN1 pages: "Section - Headline - Site" shown whole in a print link, the headline
    alone as the <h1>: the section's name is not the headline's."""
    title = "News - Holders Egypt maintain winning run ahead of Nations Cup - Soccerway"
    body = (
        f"<h2>News</h2><a class='print' href='/print'>{title}</a>"
        "<h1>Holders Egypt maintain winning run ahead of Nations Cup</h1>"
    )
    assert title_of(f"<title>{title}</title>", body, "https://soccerway.example/news/1") == (
        "Holders Egypt maintain winning run ahead of Nations Cup"
    )


def test_an_h1_with_a_kicker_before_the_headline_yields_to_the_declared_headline() -> None:
    """Found on a trafilatura-eval page: the <h1> set a kicker before the headline with no separator."""
    headline = "Cyber-Angriffe: 20 Prozent vom IT-Budget in die IT-Sicherheit stecken!"
    site = "<meta property='og:site_name' content='handwerk magazin'>"
    head = f"<title>{headline} - handwerk magazin</title>{site}"
    body = f"<h1><span class='toptitle'>Investitionen in IT-Sicherheit</span> {headline}</h1>"
    assert title_of(head, body, "https://www.handwerk-magazin.de/angriffe") == headline
    plain = "<h1>Investitionen in IT-Sicherheit</h1>"  # the <h1> is another text: it stays the headline
    assert title_of(head, plain, "https://www.handwerk-magazin.de/angriffe") != headline


def test_a_hyphenated_hosts_name_written_with_a_space_is_the_site() -> None:
    title = "Viele Betriebe sparen an der IT-Sicherheit - handwerk magazin"
    assert title_of(f"<title>{title}</title>", "", "https://www.handwerk-magazin.de/it") == (
        "Viele Betriebe sparen an der IT-Sicherheit"
    )


@pytest.mark.parametrize(
    ("declared", "h1"),
    [
        (
            "100. Geburtstag: Margot Friedländer wird 100 Jahre",
            '<h1><div class="topic-label">100. Geburtstag</div> Margot Friedländer wird 100 Jahre</h1>',
        ),
        (
            "Margot Friedländer wird 100 Jahre - Interne Unterlagen",
            '<h1><span class="dachzeile">Interne Unterlagen</span><span>Margot Friedländer wird 100 Jahre</span></h1>'
            "<a class='share' href='/teilen'>Margot Friedländer wird 100 Jahre - Interne Unterlagen</a>",
        ),
        (
            "Einheit der Woche Margot Friedländer wird 100 Jahre",
            '<h1><span class="post-title"><small>Einheit der Woche</small><br>'
            "Margot Friedländer wird 100 Jahre</span></h1>",
        ),
        (
            "Initiative EnergieEffizienz Margot Friedländer wird 100 Jahre",
            '<h1><span class="h1small">Initiative EnergieEffizienz</span> Margot Friedländer wird 100 Jahre</h1>',
        ),
    ],
    ids=["a block", "declared the other way round, shown whole", "small over a break", "a kicker class"],
)
def test_a_kicker_the_h1_sets_as_an_element_of_its_own_is_not_the_headline(declared: str, h1: str) -> None:
    """Found on trafilatura-eval pages: the declared title tells kicker and headline, the <h1> sets the
    kicker apart as an element of its own, with no separator a screen reader hears."""
    head = f'<title>{declared} | Stiftung</title><meta property="og:title" content="{declared}">'
    assert title_of(head, h1) == "Margot Friedländer wird 100 Jahre"


def test_a_heading_marked_as_the_headline_in_microdata_is_declared() -> None:
    """Found on a trafilatura-eval page: the <title> names a menu entry; the heading the page
    marks ``itemprop="headline"`` is the article's headline."""
    head = "<title>der Schreibstil - texte.example - Webdesign</title>"
    body = (
        "<nav><ul><li><a href='/stil'>der Schreibstil</a></li><li><a href='/seo'>Suchmaschinen</a></li></ul></nav>"
        "<div id='content'><p>der Schreibstil</p>"
        '<h2 itemprop="headline">Schreiben Sie Informationen für Ihre Zielgruppe</h2></div>'
    )
    assert (
        title_of(head, body, "https://texte.example/stil")
        == "Schreiben Sie Informationen für Ihre Zielgruppe"
    )
    linked = body.replace('<h2 itemprop="headline">', '<h2><a itemprop="headline" href="/x">').replace(
        "</h2>", "</a></h2>"
    )
    # A headline in a link is another page's.
    assert (
        title_of(head, linked, "https://texte.example/stil")
        != "Schreiben Sie Informationen für Ihre Zielgruppe"
    )


def test_a_style_sheet_inside_the_h1_is_not_the_headlines_text() -> None:
    """Found on a trafilatura-eval page: CSS-in-JS puts a <style> inside the <h1>."""
    body = (
        '<h1><style data-emotion="css x1">.css-x1{font-size:16px;display:block;}</style>'
        "Impfen ist bis Ende Februar noch überall möglich</h1>"
    )
    assert title_of("", body) == "Impfen ist bis Ende Februar noch überall möglich"


def test_a_standfirst_set_as_an_h2_under_the_h1_does_not_lead_the_story() -> None:
    """Found on a trafilatura-eval page: ``og:title`` names the section; the <h1> and the <h2> under
    it, with no text between, are the headline and its standfirst, and the story is the <h1>'s."""
    prose = (
        "<p>" + "Die Zeitungen erscheinen am Dienstag mit einer gemeinsamen Titelseite des Künstlers. " * 8
    )
    page = (
        "<html><head><title>BDZV: Eliasson gestaltet Titelseite für die Zeitungen</title>"
        '<meta property="og:title" content="Pressemitteilungen"></head><body>'
        "<div class='crumbs'><span>Presse</span> <span>Pressemitteilungen</span></div>"
        "<h1>Eliasson gestaltet Titelseite für die Zeitungen</h1>"
        f"<h2>Bundesweite Kunstaktion zum Tag der Pressefreiheit am 3. Mai</h2>{prose}</p></body></html>"
    )
    title = extract_article(page, "https://www.verband.example/presse/eliasson", min_body_chars=0).title
    assert title == "Eliasson gestaltet Titelseite für die Zeitungen"
