"""Extraction quality on real pages: regwatch against bare trafilatura, per corpus and split (see ``__main__``)."""
