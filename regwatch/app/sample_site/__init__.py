"""The bundled sample site: fixtures for tests and the corpus of ``regwatch demo``.

About thirty pages around January 2026's story of Ofcom's investigation of X over
Grok, in the shapes real sources have (an RSS news outlet, an Atom outlet, a
regulator's HTML listing and Atom statements, a GOV.UK-like JSON search API),
with the hard cases a pipeline must survive. ``EXPECTED`` is the manifest tests
assert against; ``DEMO_CONFIG`` is the demo's config (``{base_url}`` placeholders,
load it with ``load_config(DEMO_CONFIG, text_substitutions={"base_url": url})``).
"""

from __future__ import annotations

from regwatch.app.sample_site.server import SAMPLE_SITE_DIR, serve_sample_site

DEMO_CONFIG = SAMPLE_SITE_DIR.parent / "demo.yaml"
EXPECTED = SAMPLE_SITE_DIR.parent / "expected.json"

__all__ = ["DEMO_CONFIG", "EXPECTED", "SAMPLE_SITE_DIR", "serve_sample_site"]
