"""Page bytes to text: declared, undeclared and wrongly declared charsets, and mixed ones."""

from __future__ import annotations

import pytest

from crawlers import extract_article
from crawlers._text import decode_html


@pytest.mark.parametrize(
    ("raw", "headers_charset", "text"),
    [
        ("<p>Häuser €</p>".encode(), None, "<p>Häuser €</p>"),
        ("<p>Häuser</p>".encode("cp1252"), "windows-1252", "<p>Häuser</p>"),
        ("<p>Häuser €</p>".encode("cp1252"), None, "<p>Häuser €</p>"),
        (
            '<meta charset="iso-8859-1"><p>Häuser</p>'.encode("latin-1"),
            None,
            '<meta charset="iso-8859-1"><p>Häuser</p>',
        ),
        (b"\xef\xbb\xbf<p>H\xc3\xa4user</p>", None, "<p>Häuser</p>"),
        # Declared UTF-8, all of it cp1252 (a wrong declaration): read as cp1252.
        (
            '<meta charset="utf-8"><p>Häuser €</p>'.encode("cp1252"),
            None,
            '<meta charset="utf-8"><p>Häuser €</p>',
        ),
    ],
)
def test_page_bytes_are_read_in_the_charset_they_are_written_in(
    raw: bytes, headers_charset: str | None, text: str
) -> None:
    assert decode_html(raw, headers_charset) == text


def test_a_utf8_page_with_a_few_latin1_bytes_keeps_its_utf8_text() -> None:
    """A template in UTF-8 around a paragraph pasted in latin-1: read whole as cp1252, every UTF-8
    character would turn to mojibake ("MÃ¤scot")."""
    raw = '<meta charset="utf-8"><title>Mäscot das Schaf</title><p>'.encode() + "Schäfchen zählen".encode(
        "latin-1"
    )
    assert decode_html(raw) == '<meta charset="utf-8"><title>Mäscot das Schaf</title><p>Schäfchen zählen'
    page = raw + b"</p>" + b"<p>" + b"The flock grazes on the dyke all summer long. " * 5 + b"</p>"
    assert (
        extract_article(page, "https://www.example.de/schafe.html", min_body_chars=0).title
        == "Mäscot das Schaf"
    )
