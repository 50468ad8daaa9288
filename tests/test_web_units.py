"""The desk's pure parts: URL parameters <-> search, the simple mode's query, charts, period buckets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from indexer import SearchQuery
from regwatch.errors import QueryError
from regwatch.models import Entity
from web._charts import Series, chart_csv, periods, time_chart
from web._common import by_interval, stamp
from web._query import SearchParams, auto_interval, compose_query
from web._security import safe_href

OFCOM = Entity("ofcom", "Ofcom", "regulator", ("Office of Communications",))


def find(name: str) -> Entity | None:
    return OFCOM if name.casefold() in {"ofcom", "office of communications"} else None


def test_url_parameters_make_the_search_the_cli_would_make() -> None:
    params = SearchParams.from_query(
        {
            "q": ["grok"],
            "entity": ["office of communications"],
            "type": ["news", "news", "regulator"],
            "since": ["2026-01-01"],
            "sort": ["newest"],
            "page": ["3"],
        }
    )
    assert params.search_query(find, limit=20, offset=40) == SearchQuery(
        "grok",
        entity="Ofcom",
        since=date(2026, 1, 1),
        limit=20,
        offset=40,
        source_types=("news", "regulator"),
        sort="newest",
    )
    assert params.page_number == 3
    assert params.search_query(find, limit=1, text=False, entity=False).text == ""


def test_urls_keep_the_state_and_a_change_goes_back_to_page_one() -> None:
    params = SearchParams(q="grok", type=("news",), page="4", measure="share")
    assert parse_qs(urlsplit(params.url()).query) == {
        "q": ["grok"],
        "type": ["news"],
        "page": ["4"],
        "measure": ["share"],
    }
    assert parse_qs(urlsplit(params.toggled("type", "regulator")).query)["type"] == ["news", "regulator"]
    assert "type" not in parse_qs(urlsplit(params.toggled("type", "news")).query)
    assert "page" not in parse_qs(urlsplit(params.url(sort="newest")).query)
    assert parse_qs(urlsplit(params.url("/export.csv")).query) == {
        "q": ["grok"],
        "type": ["news"],
        "measure": ["share"],
    }
    assert SearchParams().url() == "/"


@pytest.mark.parametrize(
    ("fields", "query"),
    [
        ({"all_words": "ofcom fine"}, "ofcom fine"),
        ({"exact": 'online "safety" act'}, '"online safety act"'),
        ({"any_words": "grok x"}, "grok OR x"),
        ({"none_words": "ico -cma"}, "-ico -cma"),
        ({"all_words": "ofcom OR (x)", "any_words": "NOT fine"}, "ofcom or x not OR fine"),
        (
            {"all_words": "a", "exact": "b c", "any_words": "d e", "none_words": "f", "base": "g"},
            'g a "b c" d OR e -f',
        ),
        ({"all_words": "*** -"}, ""),
    ],
)
def test_the_simple_mode_writes_a_query_the_parser_reads(fields: dict[str, str], query: str) -> None:
    assert compose_query(**fields) == query
    if query and not query.startswith("-"):  # "none of these" alone is refused, as typed it would be
        from indexer import highlight

        highlight("probe", query)  # parses without a QueryError


def test_bad_values_are_query_errors_with_what_to_type() -> None:
    with pytest.raises(QueryError, match="since must be a date like 2024-05-31"):
        SearchParams(since="2026-1-1").dates()
    with pytest.raises(QueryError, match="page must be a whole number"):
        _ = SearchParams(page="-1").page_number
    with pytest.raises(QueryError, match="at most 2,000"):
        SearchParams(q="x" * 2001).search_query(find, limit=1)


def test_periods_cover_the_span_with_empty_ones_and_buckets_follow_the_backends() -> None:
    days = {"2024-02-27": 1, "2024-03-04": 2, "2024-12-31": 1}
    assert by_interval(days, "week") == {"2024-02-26": 1, "2024-03-04": 2, "2024-12-30": 1}
    assert by_interval(days, "month") == {"2024-02-01": 1, "2024-03-01": 2, "2024-12-01": 1}
    assert periods([Series("a", {"2024-11-01": 1, "2025-01-01": 2})], "month") == [
        "2024-11-01",
        "2024-12-01",
        "2025-01-01",
    ]
    assert len(periods([Series("a", {"2024-02-26": 1, "2024-03-11": 1})], "week")) == 3
    assert auto_interval(date(2024, 1, 1), date(2024, 2, 1)) == "day"
    assert auto_interval(date(2024, 1, 1), date(2025, 1, 1)) == "week"
    assert auto_interval(date(2020, 1, 1), date(2025, 1, 1)) == "month"


def test_a_chart_escapes_its_labels_and_its_csv_holds_every_period() -> None:
    series = [Series('<b>"x"</b>', {"2024-01-01": 2, "2024-01-03": 1}, {"2024-01-01": 4, "2024-01-03": 1})]
    chart = time_chart(series, interval="day", measure="share", title="<t>", chart_id="c")
    assert "<b>" not in chart.svg and "&lt;b&gt;&#34;x&#34;&lt;/b&gt;" in chart.svg
    assert '<title id="c-title">&lt;t&gt;</title>' in chart.svg
    assert chart_csv(chart).splitlines() == [
        'period,"<b>""x""</b> count","<b>""x""</b> all articles","<b>""x""</b> share"',
        "2024-01-01,2,4,0.500000",
        "2024-01-02,0,0,0.000000",
        "2024-01-03,1,1,1.000000",
    ]


def test_only_http_urls_are_links() -> None:
    assert safe_href("https://ofcom.org.uk/a?b=1") == "https://ofcom.org.uk/a?b=1"
    assert safe_href("HTTP://example.org") == "HTTP://example.org"
    for bad in (
        "javascript:alert(1)",
        "data:text/html,x",
        "//evil.example",
        "/local",
        "https://",
        "http://a b",
        "vbscript:x",
        " jav\tascript:x",
    ):
        assert safe_href(bad) is None, bad


def test_a_moment_on_the_ops_pages_is_read_in_utc_to_the_second() -> None:
    utc = '<time class="stamp" datetime="2026-01-12T08:30:05+00:00"><span>2026-01-12</span> <span>08:30:05 UTC</span></time>'
    assert stamp("2026-01-12T08:30:05.123456+00:00") == utc
    assert stamp(datetime(2026, 1, 12, 8, 30, 5, tzinfo=UTC)) == utc
    assert stamp(datetime(2026, 1, 12, 8, 30, 5)) == utc  # naive: the stores' UTC
    assert stamp(datetime(2026, 1, 12, 9, 30, 5, 999, tzinfo=timezone(timedelta(hours=1)))) == utc
    assert stamp(None, "never") == "never" and stamp("") == ""
    assert stamp("<b>soon</b>") == "&lt;b&gt;soon&lt;/b&gt;"  # not a time: shown as it is, escaped


@pytest.mark.parametrize(
    ("most", "labels"), [(3, ["0", "2", "4"]), (5, ["0", "3", "6"]), (1, ["0", "1"]), (70, ["0", "40", "80"])]
)
def test_the_y_axis_is_labelled_with_the_values_its_lines_stand_for(most: int, labels: list[str]) -> None:
    import re

    chart = time_chart(
        [Series("a", {"2024-01-01": most})], interval="day", measure="count", title="t", chart_id="c"
    )
    found = re.findall(r'<text class="axis" x="50" y="([\d.]+)" text-anchor="end">([^<]+)</text>', chart.svg)
    assert [label for _, label in found] == labels
    # each label sits where a bar of that value would end: y = TOP + height * (1 - value / top)
    top = float(labels[-1])
    for y, label in found:
        assert float(y) - 4 == pytest.approx(14 + 206 * (1 - float(label) / top), abs=0.06)


def test_the_web_package_exports_exactly_its_public_api() -> None:
    import web

    assert sorted(web.__all__) == [
        "Access",
        "DeskServices",
        "LOCAL_USER",
        "User",
        "create_app",
        "current_user",
        "hash_password",
        "is_loopback",
        "load_or_create_secret",
        "new_api_token",
        "verify_password",
    ]
    for name in web.__all__:
        assert getattr(web, name) is not None


def test_the_wiring_gives_the_desk_everything_its_protocol_declares() -> None:
    from regwatch.app.desk import AppDesk
    from web import DeskServices

    declared = {name for name in vars(DeskServices) if not name.startswith("_")}
    assert declared <= set(dir(AppDesk)), declared - set(dir(AppDesk))
