"""Lenient, safe XML parsing shared by the feed and sitemap readers."""

from __future__ import annotations

from lxml import etree

from regwatch.errors import SourceError


def local_name(tag: object) -> str:
    """The lower-case local name of an element tag (namespaces dropped); '' for comments/PIs."""
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def parse_xml_root(body: bytes, url: str, what: str) -> etree._Element:
    """Parse ``body`` leniently (recover) without entities or network; SourceError when unusable.

    ``what`` names the document in messages ("feed", "sitemap").
    """
    if not body.strip():
        raise SourceError(f"{url}: empty {what}", "empty", url)
    parser = etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False
    )
    try:
        root = etree.fromstring(body.strip(), parser)
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"{url}: unreadable {what} ({exc})", "parse", url) from None
    if root is None:
        raise SourceError(f"{url}: unreadable {what}", "parse", url)
    return root
