"""`make bench-crawl` judges each side by its fastest round, so one round slowed by another job
on a shared machine does not decide the ratio."""

from __future__ import annotations

from typing import Any

from benchmarks.bench_crawl import report


def _run(
    seconds: float, pages: int = 1000, stored: int = 0, rss_kib: int = 102_400
) -> tuple[float, dict[str, Any], int]:
    return (
        seconds,
        {"pages_fetched": pages, "new": stored, "updated": 0, "duplicate": 0, "errors": 0},
        rss_kib,
    )


def test_each_side_counts_its_fastest_round_and_the_ratio_is_of_the_two() -> None:
    runs = {
        "bare": [_run(2.0), _run(4.0), _run(2.5)],  # best: 500 pages/s
        "regwatch": [_run(8.0, stored=1000), _run(4.0, stored=1000), _run(5.0, stored=1000, rss_kib=204_800)],
    }
    text = report(1000, runs)
    assert "best of 3 rounds per side" in text
    assert "500.0 pages/s" in text and "250.0 pages/s" in text
    assert "each round's ratio: 0.25, 1.00, 0.50" in text
    assert "ratio regwatch/bare pages/s: 0.50 (goal >= 0.5)" in text
    assert "peak RSS    200 MiB" in text  # the highest of any round, not the best round's


def test_one_round_prints_no_list_of_rounds() -> None:
    text = report(1000, {"bare": [_run(1.0)], "regwatch": [_run(2.0, stored=1000)]})
    assert "best of 1 round per side" in text and "each round" not in text
    assert "ratio regwatch/bare pages/s: 0.50" in text
