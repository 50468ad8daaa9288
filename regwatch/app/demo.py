"""`regwatch demo`: the whole pipeline, offline, on the bundled sample site.

The sample site is served on 127.0.0.1. Its pages declare canonical URLs on
the address they are served from, so the demo remembers its port in the demo
home (``demo-site.json``) and serves on the same one next time: a rerun then
recognises every article and adds nothing.
"""

from __future__ import annotations

import errno
import json
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from regwatch.app import App, pipeline
from regwatch.errors import ConfigError
from regwatch.private import private_dir, private_file

logger = logging.getLogger(__name__)

PORT_FILE = "demo-site.json"
DEMO_CONFIG_NAME = "demo.yaml"


@contextmanager
def _serve(home: Path) -> Iterator[str]:
    """Serve the sample site on the port earlier demo runs in ``home`` used (or a free one)."""
    from regwatch.app.sample_site import serve_sample_site

    port_file = home / PORT_FILE
    port = 0
    if port_file.exists():
        try:
            port = int(json.loads(port_file.read_text())["port"])
        except (ValueError, KeyError, TypeError, json.JSONDecodeError):
            logger.warning("%s is unreadable; serving the sample site on a new port", port_file)
    with ExitStack() as stack:
        try:
            base_url = stack.enter_context(serve_sample_site(port=port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise ConfigError(
                f"port {port} (used by earlier demo runs in {home}) is busy: free it, "
                f"or use a new --out dir (articles are keyed by their URLs on that port)"
            ) from None
        yield base_url


@contextmanager
def served_demo(home: Path) -> Iterator[tuple[str, Path]]:
    """Serve the sample site for the demo home ``home`` and write its config there; yield (site URL, config).

    Shared by `regwatch demo` and `regwatch cluster-demo`. The config is the bundled demo
    config (never REGWATCH_CONFIG, so the demo stays offline whatever the environment
    says) with the site's address filled in, kept in the home so that later commands
    (`regwatch --home OUT --config OUT/demo.yaml sources`) see the same sources.
    """
    from regwatch.app.sample_site import DEMO_CONFIG

    private_dir(home)
    with _serve(home) as base_url:
        port = int(base_url.rsplit(":", 1)[1].split("/")[0])
        private_file(home / PORT_FILE).write_text(json.dumps({"port": port, "base_url": base_url}))
        logger.info("sample site served at %s", base_url)
        config_path = private_file(home / DEMO_CONFIG_NAME)
        config_path.write_text(
            Path(DEMO_CONFIG).read_text(encoding="utf-8").replace("{base_url}", base_url), encoding="utf-8"
        )
        yield base_url, config_path


def run_demo(out: Path, overrides: dict[str, Any] | None = None) -> tuple[pipeline.RunSummary, str]:
    """Serve the sample site, run one full pass into ``out``; return the summary and site URL."""
    home = out.resolve()
    with (
        served_demo(home) as (base_url, config_path),
        App.load(home, config_path, overrides=overrides) as app,
    ):
        summary = pipeline.run_once(app, due_only=False, force_digests=True)
    return summary, base_url
