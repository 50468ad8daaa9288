"""``python -m regwatch.app.sample_site [--host H] [--port N]``: serve the sample site until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import threading

from regwatch.app.sample_site.server import serve_sample_site

logger = logging.getLogger("regwatch.app.sample_site")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m regwatch.app.sample_site", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    with serve_sample_site(args.host, args.port) as base_url:
        logger.info("Sample site at %s/ (Ctrl-C to stop)", base_url)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            logger.info("Stopping")


if __name__ == "__main__":
    main()
