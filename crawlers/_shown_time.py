"""The publication time a page shows in its text with a zone ("Dec 15, 2016 2:57 PM UTC", "10/17/2022 04:01 PM EDT").

Many pages declare only a day, or a wall clock without an offset ("2022-10-17 16:01:26" in a
``<time>`` element), while the byline line shows the full time with its zone. That line is what
a reader sees, so where the declared time lacks an offset it settles the instant: a shown time
whose wall clock is the declared one (or, for a declared or visible day, whose day is that day)
gives the time in UTC. A shown time that agrees with nothing declared is not used: a page also
shows comment stamps, "updated" lines and clocks of other stories.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import lxml.etree
import lxml.html

from ._text import clean_text

# A date (month name first or day first, numeric, ISO or Japanese), then a clock and maybe a zone's
# abbreviation.
_SHOWN = re.compile(
    r"\b(?:(?P<mon1>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.? (?P<day1>\d{1,2})(?:st|nd|rd|th)?,? (?P<year1>\d{4})"
    r"|(?P<day2>\d{1,2})(?:st|nd|rd|th)? (?:of )?(?P<mon2>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?,? (?P<year2>\d{4})"
    r"|(?P<num1>\d{1,2})[/.](?P<num2>\d{1,2})[/.](?P<year3>\d{4})"
    r"|(?P<year4>\d{4})-(?P<mon4>\d\d)-(?P<day4>\d\d)"
    r"|(?P<year5>\d{4})\u5e74 ?(?P<mon5>\d{1,2})\u6708 ?(?P<day5>\d{1,2})\u65e5)"
    r",? ?(?:at |[-|\u00b7\u2013] )?(?P<hour>\d{1,2})[:h.\u6642](?P<minute>\d\d)\u5206?(?::(?P<second>\d\d))?"
    r"(?: ?(?P<half>[ap]\.?m\.?))?(?: (?P<zone>[A-Z]{2,4})\b)?",
    re.I,
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1
    )
}
# Abbreviations with one meaning in news pages, as minutes east of UTC ...
_FIXED_MINUTES = {
    "UTC": 0, "GMT": 0, "UT": 0, "WET": 0, "BST": 60, "WEST": 60, "CET": 60, "MEZ": 60, "CEST": 120,
    "MESZ": 120, "EET": 120, "EEST": 180, "MSK": 180, "IST": 330, "SGT": 480, "HKT": 480, "AWST": 480,
    "JST": 540, "KST": 540, "ACST": 570, "AEST": 600, "ACDT": 630, "AEDT": 660, "NZST": 720,
    "NZDT": 780, "EST": -300, "EDT": -240, "CST": -360, "CDT": -300, "MST": -420, "MDT": -360,
    "PST": -480, "PDT": -420, "AKST": -540, "AKDT": -480, "HST": -600,
}  # fmt: skip
# ... and the US zones written without standard or daylight ("11:00 AM PT"), whose offset is the day's.
_REGIONAL = {
    "ET": "America/New_York",
    "CT": "America/Chicago",
    "MT": "America/Denver",
    "PT": "America/Los_Angeles",
}
_HIDDEN = ("script", "style", "noscript", "template")
# Country domains of countries with one time zone: a page there that shows only a day shows the
# day of that zone, when its source names none.
_COUNTRY_ZONES = {
    "uk": "Europe/London", "ie": "Europe/Dublin", "fr": "Europe/Paris", "de": "Europe/Berlin",
    "at": "Europe/Vienna", "ch": "Europe/Zurich", "it": "Europe/Rome", "nl": "Europe/Amsterdam",
    "be": "Europe/Brussels", "lu": "Europe/Luxembourg", "dk": "Europe/Copenhagen", "se": "Europe/Stockholm",
    "no": "Europe/Oslo", "fi": "Europe/Helsinki", "pl": "Europe/Warsaw", "cz": "Europe/Prague",
    "sk": "Europe/Bratislava", "hu": "Europe/Budapest", "gr": "Europe/Athens", "ro": "Europe/Bucharest",
    "jp": "Asia/Tokyo", "kr": "Asia/Seoul", "cn": "Asia/Shanghai", "hk": "Asia/Hong_Kong",
    "tw": "Asia/Taipei", "sg": "Asia/Singapore", "in": "Asia/Kolkata", "il": "Asia/Jerusalem",
    "za": "Africa/Johannesburg", "ke": "Africa/Nairobi", "ng": "Africa/Lagos",
}  # fmt: skip


def country_zone(host: str) -> str:
    """The zone of a host's country domain ("www.spektrum.de": Europe/Berlin), "" for any other."""
    return _COUNTRY_ZONES.get(host.rstrip(".").rsplit(".", 1)[-1].lower(), "")


def _zone(abbreviation: str) -> tzinfo | None:
    if abbreviation in _FIXED_MINUTES:
        return timezone(timedelta(minutes=_FIXED_MINUTES[abbreviation]))
    if abbreviation in _REGIONAL:
        return ZoneInfo(_REGIONAL[abbreviation])
    return None


def _days(found: dict[str, str | None]) -> list[tuple[int, int, int]]:
    """The (year, month, day) a match may mean: two for a numeric date that reads both ways."""
    if found["mon1"]:
        return [(int(found["year1"] or 0), _MONTHS[found["mon1"].lower()], int(found["day1"] or 0))]
    if found["mon2"]:
        return [(int(found["year2"] or 0), _MONTHS[found["mon2"].lower()], int(found["day2"] or 0))]
    if found["year4"]:
        return [(int(found["year4"]), int(found["mon4"] or 0), int(found["day4"] or 0))]
    if found["year5"]:
        return [(int(found["year5"]), int(found["mon5"] or 0), int(found["day5"] or 0))]
    first, second, year = int(found["num1"] or 0), int(found["num2"] or 0), int(found["year3"] or 0)
    return [(year, first, second), (year, second, first)]  # US month first, or day first


def _clock(found: dict[str, str | None]) -> tuple[int, int, int] | None:
    hour, minute, second = int(found["hour"] or 0), int(found["minute"] or 0), int(found["second"] or 0)
    half = (found["half"] or "").lower()[:1]
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "p" else 0)
    return (hour, minute, second) if hour < 24 and minute < 60 and second < 60 else None


@functools.lru_cache(maxsize=1)
def _visible_text(html: str) -> str:
    """The text a reader sees (scripts, styles and templates left out), "" for what is no HTML.

    Cached for the page at hand: its CJK days and its shown times are both read from it."""
    try:
        doc = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return ""
    for hidden in doc.iter(*_HIDDEN):
        hidden.text = None
    return clean_text(" ".join(doc.itertext()))


# A day written the Chinese, Japanese or Korean way ("2019年4月4日", "2019년 4월 4일"): one reading only.
_CJK_DAY = re.compile(r"(?<!\d)(\d{4}) ?[\u5e74\ub144] ?(\d{1,2}) ?[\u6708\uc6d4] ?(\d{1,2}) ?[\u65e5\uc77c]")


def shown_cjk_days(html: str) -> list[date]:
    """The days the page's text shows written the CJK way, in the order a reader meets them."""
    days = []
    for match in _CJK_DAY.finditer(_visible_text(html)):
        try:
            days.append(date(int(match[1]), int(match[2]), int(match[3])))
        except ValueError:
            continue
    return days


def shown_times(html: str, local_zone: str = "") -> Iterator[datetime]:
    """Every time the page's visible text states with a date and a clock, in its zone: the one it names
    (a known abbreviation), else ``local_zone`` (the publisher's, an IANA name); one without either is
    skipped, as is one naming a zone not known here."""
    text = _visible_text(html)
    local = zone_named(local_zone)
    for match in _SHOWN.finditer(text):
        found = match.groupdict()
        named = str(found["zone"] or "")
        zone = _zone(named) if named.isupper() else local  # a lower-case word after the clock is no zone
        clock = _clock(found)
        if zone is None or clock is None:
            continue
        for year, month, day in _days(found):
            try:
                yield datetime(year, month, day, *clock, tzinfo=zone)
            except ValueError:
                continue


def zone_named(name: str) -> tzinfo | None:
    """The IANA zone ``name`` ("Europe/Berlin"), or None for "" or a name not known here."""
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def shown_time(
    html: str, wall_clock: datetime | None, day: date | None, local_zone: str = ""
) -> datetime | None:
    """The shown time (UTC) that tells ``wall_clock`` (a naive declared time) with its zone, or, without
    one, the first shown on ``day``; None when the page shows none that agrees. ``local_zone``: the
    publisher's, for a clock shown without one."""
    for shown in shown_times(html, local_zone):
        local = shown.replace(tzinfo=None)
        if wall_clock is not None:
            if abs(local - wall_clock) < timedelta(minutes=1):  # the declared clock, to its second
                return wall_clock.replace(tzinfo=shown.tzinfo).astimezone(UTC)
        elif day is not None and local.date() == day:
            return shown.astimezone(UTC)
    return None
