"""How one extraction is scored against a page's gold: body, title, published time, authors.

- body, where the gold is a whole text: shingle precision, recall and F1 (word 4-grams
  counted with multiplicity: boilerplate kept costs precision, text dropped costs recall);
- body, where the gold is snippets (text that must be in the body, text that must not):
  recall over the first, precision over the second;
- title: equal after Unicode NFKC, case folding, whitespace collapsing, straightening quotes and dashes;
- everywhere: characters that show nothing (a soft hyphen, a word joiner) are not text: some golds
  keep the page's soft hyphens ("Genesenen&shy;&shy;nachweise"), some extractors drop them;
- published: the same instant to the minute (an answer must state its offset); a gold that
  is only a day is met by that day, or by an instant falling on it in some zone (UTC-12 to +14:
  the page shows its local day, regwatch stores UTC);
- authors: F1 over the set of names, compared by their words (case, punctuation and degrees aside).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

SHINGLE = 4
_WORD = re.compile(r"\w+", re.UNICODE)
_WS = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u00ad\u2060\ufeff]")


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))


def normalise(text: str) -> str:
    """Text as titles, names and snippets are compared: NFKC, case-folded, whitespace collapsed."""
    return _WS.sub(" ", _nfkc(text).casefold()).strip()


def shingles(text: str, n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    words = _WORD.findall(_nfkc(text).lower())
    if len(words) < n:
        return Counter([tuple(words)]) if words else Counter()
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def prf(predicted: Counter[tuple[str, ...]], gold: Counter[tuple[str, ...]]) -> tuple[float, float, float]:
    overlap = sum((predicted & gold).values())
    precision = overlap / sum(predicted.values()) if predicted else 0.0
    recall = overlap / sum(gold.values()) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def body_prf(predicted: str, gold: str) -> tuple[float, float, float]:
    """Shingle (precision, recall, F1) of a body against a whole gold text."""
    return prf(shingles(predicted), shingles(gold))


def snippet_scores(body: str, with_: Sequence[str], without: Sequence[str]) -> tuple[float, float]:
    """(recall over ``with``, precision over ``without``); 1.0 where a list is empty."""
    text = normalise(body)
    found = sum(normalise(s) in text for s in with_)
    leaked = sum(normalise(s) in text for s in without)
    recall = found / len(with_) if with_ else 1.0
    precision = 1 - leaked / len(without) if without else 1.0
    return recall, precision


def f1_of(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


_TYPOGRAPHY = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "–": "-", "—": "-"}
)


def title_key(title: str) -> str:
    """A title as titles are compared: normalised, curly quotes and dashes as straight ones (a page's
    <title> and its heading often differ only in typography)."""
    return normalise(title.translate(_TYPOGRAPHY)).strip(" .")


def title_ok(predicted: str, gold: str) -> bool:
    return title_key(predicted) == title_key(gold)


_DEGREE = re.compile(r"^(?:phd|md|ma|msc|bsc|mba|rn|dr|prof|jr|sr)$")


def name_key(name: str) -> str:
    """A name as names are compared: its words, case-folded, without punctuation or degrees ("Perry Bacon Jr.")."""
    words = _WORD.findall(_nfkc(name).casefold())
    return " ".join(w for w in words if not _DEGREE.match(w))


def authors_f1(predicted: Sequence[str], gold: Sequence[str]) -> float:
    """F1 over sets of names; no name on either side is a match (the page has no byline)."""
    norm_p = {name_key(a) for a in predicted if name_key(a)}
    norm_g = {name_key(a) for a in gold if name_key(a)}
    if not norm_p and not norm_g:
        return 1.0
    overlap = len(norm_p & norm_g)
    if not overlap:
        return 0.0
    precision, recall = overlap / len(norm_p), overlap / len(norm_g)
    return 2 * precision * recall / (precision + recall)


def gold_instant(gold: str) -> datetime | date:
    """A gold published value: a date when it names only a day; an instant (naive read as UTC) otherwise."""
    text = gold.strip()
    if len(text) <= 10:
        return date.fromisoformat(text)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def valid_gold_time(value: object) -> str | None:
    """A gold time the scorer can read, or None (a malformed one, "2022-01.26", is not scored)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        gold_instant(value)
    except ValueError:
        return None
    return value


def published_ok(predicted: datetime | date | None, gold: str) -> bool:
    """Same minute, with an offset stated, for a gold instant; same calendar day for a gold day.

    A predicted day (what bare trafilatura gives) never meets a gold instant. A predicted
    instant meets a gold day when its day, read in UTC or as the page states it, is that day.
    """
    if predicted is None:
        return False
    expected = gold_instant(gold)
    if not isinstance(expected, datetime):
        if not isinstance(predicted, datetime):
            return predicted == expected
        # The page shows its local day; an instant (regwatch stores UTC) meets it when it falls on that
        # day in some zone from UTC-12 to UTC+14 ("2022-05-08 01:06 UTC" is 7 May in Lima).
        start = datetime.combine(expected, datetime.min.time(), UTC)
        return start - timedelta(hours=14) <= predicted < start + timedelta(days=1, hours=12)
    if not isinstance(predicted, datetime) or predicted.utcoffset() is None:
        return False
    return abs((predicted - expected).total_seconds()) < 60


def published_day_ok(predicted: datetime | date | None, gold: str) -> bool:
    """The gold's calendar day (a lenient check, shown beside the minute)."""
    if predicted is None:
        return False
    expected = gold_instant(gold)
    want = expected.date() if isinstance(expected, datetime) else expected
    day = predicted.date() if isinstance(predicted, datetime) else predicted
    return day == want
