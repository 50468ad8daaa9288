"""Lenient feed parsing: RSS 2.0, RSS 1.0, Atom, and the malformed feeds met in the wild."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawlers import parse_feed
from regwatch.errors import SourceError

FEED_URL = "https://news.example.org/feeds/rss.xml"

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>The Daily Ledger</title>
    <item>
      <title>Ofcom opens investigation into X</title>
      <link>https://news.example.org/2026/01/ofcom-x.html</link>
      <pubDate>Mon, 12 Jan 2026 08:30:00 +0000</pubDate>
      <dc:creator>Tom Aldridge</dc:creator>
      <dc:creator>Priya Nair</dc:creator>
      <category>Ofcom</category><category>X</category>
      <description>&lt;p&gt;The regulator acts &lt;b&gt;today&lt;/b&gt;.&lt;/p&gt;</description>
    </item>
    <item>
      <title>Live: PMQs</title>
      <guid isPermaLink="false">ledger-live-pmqs</guid>
      <pubDate>Wed, 14 Jan 2026 12:00:00 +0000</pubDate>
    </item>
    <item>
      <title>Storm warnings</title>
      <link>/2026/01/storm.html</link>
      <pubDate>Tuesday, sometime after lunch</pubDate>
    </item>
    <item>
      <title>Guid as permalink</title>
      <guid>https://news.example.org/2026/01/guid.html</guid>
      <pubDate>2026-01-15T10:00:00+01:00</pubDate>
      <author>By Jane Doe and John Roe</author>
    </item>
  </channel>
</rss>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://wire.example.org/stories/">
  <title>Westminster Wire</title>
  <link rel="self" href="https://wire.example.org/atom.xml"/>
  <entry>
    <id>tag:wire,2026:1</id>
    <title type="html">Ministers &lt;em&gt;quietly&lt;/em&gt; leave X</title>
    <link rel="self" href="https://wire.example.org/api/1"/>
    <link rel="alternate" type="text/html" href="ministers-leave-x.html"/>
    <published>2026-01-13T14:20:00+00:00</published>
    <updated>2026-01-13T15:00:00Z</updated>
    <author><name>Gareth Moyles</name></author>
    <category term="politics" label="Politics"/>
    <summary type="text">Several ministers have gone quiet.</summary>
  </entry>
  <entry>
    <id>tag:wire,2026:2</id>
    <title>No link here</title>
    <link rel="self" href="https://wire.example.org/api/2"/>
    <updated>2026-01-14T10:00:00Z</updated>
  </entry>
  <entry>
    <id>tag:wire,2026:3</id>
    <title>Only updated</title>
    <link href="https://wire.example.org/stories/only-updated.html"/>
    <updated>2026-01-14T10:00:00Z</updated>
  </entry>
</feed>
"""


def test_rss_items_give_links_and_fallback_metadata() -> None:
    feed = parse_feed(RSS, FEED_URL)

    assert feed.kind == "rss"
    assert feed.title == "The Daily Ledger"
    first = feed.entries[0]
    assert first.link == "https://news.example.org/2026/01/ofcom-x.html"
    assert first.title == "Ofcom opens investigation into X"
    assert first.published == datetime(2026, 1, 12, 8, 30, tzinfo=UTC)
    assert first.authors == ["Tom Aldridge", "Priya Nair"]
    assert first.tags == ["Ofcom", "X"]
    assert first.summary == "The regulator acts today."


def test_rss_item_without_link_is_skipped_and_the_rest_kept() -> None:
    feed = parse_feed(RSS, FEED_URL)

    links = [e.link for e in feed.entries]
    assert links == [
        "https://news.example.org/2026/01/ofcom-x.html",
        "https://news.example.org/2026/01/storm.html",
        "https://news.example.org/2026/01/guid.html",
    ]
    assert len(feed.skipped) == 1
    assert "Live: PMQs" in feed.skipped[0] and "no link" in feed.skipped[0]


def test_rss_item_with_unreadable_date_is_kept_without_a_date() -> None:
    feed = parse_feed(RSS, FEED_URL)

    storm = next(e for e in feed.entries if e.title == "Storm warnings")
    assert storm.published is None
    assert len(feed.problems) == 1 and "sometime after lunch" in feed.problems[0]


def test_rss_guid_permalink_stands_in_for_a_missing_link() -> None:
    entry = parse_feed(RSS, FEED_URL).entries[2]

    assert entry.published == datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
    assert entry.authors == ["Jane Doe", "John Roe"]


def test_atom_entries_use_the_alternate_link_resolved_against_xml_base() -> None:
    feed = parse_feed(ATOM, "https://wire.example.org/atom.xml")

    assert feed.kind == "atom"
    assert [e.link for e in feed.entries] == [
        "https://wire.example.org/stories/ministers-leave-x.html",
        "https://wire.example.org/stories/only-updated.html",
    ]
    first = feed.entries[0]
    assert first.title == "Ministers quietly leave X"  # type="html": markup removed
    assert first.published == datetime(2026, 1, 13, 14, 20, tzinfo=UTC)
    assert first.updated == datetime(2026, 1, 13, 15, 0, tzinfo=UTC)
    assert first.authors == ["Gareth Moyles"]
    assert first.tags == ["Politics"]
    assert first.summary == "Several ministers have gone quiet."
    assert feed.entries[1].published == datetime(2026, 1, 14, 10, 0, tzinfo=UTC)  # updated stands in
    assert len(feed.skipped) == 1 and "no link" in feed.skipped[0]


def test_rss_1_rdf_feed() -> None:
    rdf = b"""<?xml version="1.0"?>
    <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
             xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel><title>Regulator statements</title></channel>
      <item><title>Statement</title><link>https://reg.example.org/s1</link><dc:date>2026-01-05</dc:date></item>
    </rdf:RDF>"""
    feed = parse_feed(rdf, "https://reg.example.org/rss")

    assert feed.kind == "rdf"
    assert [(e.link, e.published) for e in feed.entries] == [
        ("https://reg.example.org/s1", datetime(2026, 1, 5, tzinfo=UTC))
    ]


def test_broken_xml_is_read_as_far_as_it_goes() -> None:
    broken = (
        b"<rss version='2.0'><channel><title>Broken & unescaped</title>"
        b"<item><title>One & two</title><link>https://ex.org/1</link></item>"
        b"<item><title>Cut off</title><link>https://ex.org/2</link>"
    )
    feed = parse_feed(broken, "https://ex.org/rss")

    assert [e.link for e in feed.entries] == ["https://ex.org/1", "https://ex.org/2"]


def test_an_html_page_is_not_a_feed() -> None:
    with pytest.raises(SourceError) as caught:
        parse_feed(b"<html><body><p>Moved</p></body></html>", FEED_URL)
    assert caught.value.error_class == "parse"
    assert caught.value.url == FEED_URL


def test_an_empty_answer_is_an_empty_feed() -> None:
    with pytest.raises(SourceError) as caught:
        parse_feed(b"  \n", FEED_URL)
    assert caught.value.error_class == "empty"
