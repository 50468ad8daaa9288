# regwatch: every target works from a clean clone (Python 3.11 and the package registries needed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV := $(BIN)/uv

.PHONY: install system-deps demo cluster-demo test lint format bench lock clean opensearch opensearch-stop bench-index bench-nlp bench-crawl bench-story bench-web bench-scale quality quality-nlp

install: $(STAMP)

# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set (CI machines, containers)
# Python would otherwise compile every imported module afresh in every process, and each crawl
# subprocess, extraction worker and command would start about 3 s later (imports: 4.6 s -> 1.5 s).
$(STAMP): requirements.lock pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(UV) pip sync --python $(BIN)/python --require-hashes --compile-bytecode requirements.lock
	$(UV) pip install --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; its own browser download
# cannot be used here), Java and Maven for the OpenSearch node, and Debian's PostgreSQL server
# binaries for the PostgreSQL store tests (each test session starts its own server from them:
# the package's main cluster is not created, so no system service starts). Needs root or sudo;
# without them those tests skip locally.
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }
	@{ command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; } || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			$$SUDO apt-get install -y -qq openjdk-17-jre-headless maven; }
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO mkdir -p /etc/postgresql-common/createcluster.d && \
		echo "create_main_cluster = false" | \
			$$SUDO tee /etc/postgresql-common/createcluster.d/regwatch-no-main-cluster.conf >/dev/null && \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql; }

demo: install
	$(BIN)/regwatch demo --out var/demo

# The same demo through a fleet: PostgreSQL and an OpenSearch node under var/ (each started unless
# it runs, stopped after if started here), two `regwatch worker` processes and `regwatch schedule`
# (regwatch/app/cluster_demo.py). Needs `make system-deps` (PostgreSQL, Java).
cluster-demo: install
	$(POSTGRESQL) with -- $(OPENSEARCH) with -- \
		sh -c 'REGWATCH_INDEX_URL="$$REGWATCH_TEST_INDEX_URL" exec $(BIN)/regwatch cluster-demo --out var/cluster-demo'

# The cluster tests run against a real OpenSearch node (opensearch/run.py: jars from Maven
# Central once, data in var/opensearch); `make test` starts it unless one runs, and stops
# what it started. Without Java the cluster tests skip locally (under CI=true they fail).
OPENSEARCH := $(PYTHON) opensearch/run.py --dir var/opensearch
# A local PostgreSQL server in var/postgresql (Debian's binaries, `make system-deps`); `with` starts
# it unless one runs there, sets REGWATCH_STORE_URL for the command, and stops what it started.
POSTGRESQL := $(PYTHON) postgresql/run.py --dir var/postgresql

test: install
	$(OPENSEARCH) with -- $(BIN)/python -m pytest

opensearch:
	$(OPENSEARCH) start

opensearch-stop:
	$(OPENSEARCH) stop

# Ingest docs/s and search p50/p95 of the embedded store and OpenSearch over a synthetic
# corpus; BENCH_DOCS=100000 for the full-size run (a few minutes on two cores).
BENCH_DOCS ?= 20000
bench-index: install
	$(OPENSEARCH) with -- $(BIN)/python -m benchmarks.bench_index --docs $(BENCH_DOCS)

# Tagging docs/s of regwatch's pipeline against a bare en_core_web_sm nlp.pipe over the same
# texts in the same run (goal ratio >= 1.5), and RSS of one Tagger after 1,000 and
# NLP_BENCH_MEMORY_DOCS documents (memory flat). About 3 minutes on two cores.
NLP_BENCH_DOCS ?= 400
NLP_BENCH_MEMORY_DOCS ?= 10000
bench-nlp: install
	$(BIN)/python -m benchmarks.bench_nlp --docs $(NLP_BENCH_DOCS) --memory-docs $(NLP_BENCH_MEMORY_DOCS)

# Watched-entity precision/recall on real public texts nobody here wrote (the labels in
# benchmarks/data/nlp_real_labels.jsonl), regwatch beside a naive exact-alias matcher, same run.
# NLP_CORPUS: the directory holding the labels' source repositories (`--sources` lists them,
# `--clone` fetches the missing ones from GitHub). About a minute on two cores.
NLP_CORPUS ?= $(REGWATCH_NLP_CORPUS)
quality-nlp: install
	$(BIN)/python benchmarks/quality_nlp.py --corpus "$(NLP_CORPUS)" $(QUALITY_NLP_ARGS)

# Crawl pages/s, articles/s and peak RSS of regwatch's crawl (extraction + store) against the
# same Scrapy settings with extraction and storage off, same run, local site (goal ratio >= 0.5,
# RSS < 1 GB). About 3 minutes on two cores at 5,000 pages.
CRAWL_BENCH_PAGES ?= 5000
bench-crawl: install
	$(BIN)/python -m benchmarks.bench_crawl --pages $(CRAWL_BENCH_PAGES)

# Story clustering's cost per upsert (ms/article) against upserts with it switched off, same
# run, and the recall of planted copies. About a minute on two cores at 10,000 articles.
STORY_BENCH_DOCS ?= 10000
bench-story: install
	$(BIN)/python -m benchmarks.bench_story --docs $(STORY_BENCH_DOCS)

# Extraction quality: regwatch beside bare trafilatura on corpora with gold output, per corpus and
# dev/test split (README, "Extraction quality"; clones of the public corpora go in var/corpora/).
# Exits 1 when regwatch is below trafilatura on any of them. QUALITY_FLAGS: --split test, --worst 20…
CORPORA ?= $(wildcard var/corpora/readability var/corpora/page-signal var/corpora/trafilatura var/corpora/postlight-parser) tests/data/crawl_quality
QUALITY_FLAGS ?=
quality: install
	$(BIN)/python -m benchmarks.extraction $(CORPORA) $(QUALITY_FLAGS)

# The web desk's server time over a BENCH_DOCS-article archive (goals at 100,000: / with facets and the
# timeline p95 < 100 ms, article and entity pages < 50 ms, /api/search within 10% of the CLI's search),
# the same against the OpenSearch node beside it, and the JavaScript it ships (< 100 KB).
bench-web: install
	$(OPENSEARCH) with -- $(BIN)/python -m benchmarks.bench_web --docs $(BENCH_DOCS)

# Articles/s through crawl, extraction, tagging and indexing over one local site of SCALE_SOURCES
# feeds: `regwatch run` on SQLite, one `regwatch worker` on PostgreSQL + OpenSearch, and two, same
# run, fresh store each (goals: 2 workers / 1 >= 1.6 where cores are free; PG 1 / SQLite >= 0.85).
# Starts PostgreSQL and OpenSearch unless they run. About 5 minutes on two cores.
SCALE_SOURCES ?= 200
SCALE_ARTICLES ?= 3
bench-scale: install
	$(POSTGRESQL) with -- $(OPENSEARCH) with -- \
		$(BIN)/python -m benchmarks.bench_scale --sources $(SCALE_SOURCES) --articles $(SCALE_ARTICLES)

# Every benchmark, each printing its ratio against a baseline measured in the same run.
bench: bench-nlp bench-index bench-crawl bench-story bench-web bench-scale

# Ruff (lint and format), then mypy --strict over every package ([tool.mypy] in pyproject.toml).
lint: install
	$(BIN)/ruff check regwatch crawlers nlp indexer digests web benchmarks tests
	$(BIN)/ruff format --check regwatch crawlers nlp indexer digests web benchmarks tests
	$(BIN)/mypy

format: install
	$(BIN)/ruff format regwatch crawlers nlp indexer digests web benchmarks tests
	$(BIN)/ruff check --fix regwatch crawlers nlp indexer digests web benchmarks tests

lock: install
	$(UV) pip compile --generate-hashes --python-version 3.11 requirements.in -o requirements.lock

clean:
	rm -rf $(VENV) var build *.egg-info
