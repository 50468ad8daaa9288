"""nlp: tag watched entities (and other named entities) in article text.

The watchlist (:func:`load_watchlist`) is data; :func:`build_pipeline` turns it
into a spaCy pipeline (the pretrained model, its NER run by ``regwatch_window_ner``
on the text around capitalised words, plus the ``regwatch_sentencizer``,
``regwatch_watchlist_ruler``, ``regwatch_linker``, ``regwatch_trigger_parser``,
``regwatch_quotes`` and ``regwatch_actions`` components); :class:`Tagger` runs it
over articles and returns a :class:`TagResult` (entities, quotes, actions).
Importing this package registers the component factories with spaCy.
"""

from nlp._components import WatchlistRuler, watchlist_patterns
from nlp._linker import WatchlistLinker
from nlp._mentions import normalise_name
from nlp._pipeline import build_pipeline, load_model
from nlp._tagger import TAGGER_VERSION, Tagger, TagResult, tagger_version
from nlp._watchlist import ENTITY_TYPES, Role, Watchlist, WatchlistEntry, load_watchlist

__all__ = [
    "ENTITY_TYPES",
    "TAGGER_VERSION",
    "Role",
    "TagResult",
    "Tagger",
    "Watchlist",
    "WatchlistEntry",
    "WatchlistLinker",
    "WatchlistRuler",
    "build_pipeline",
    "load_model",
    "load_watchlist",
    "normalise_name",
    "tagger_version",
    "watchlist_patterns",
]
