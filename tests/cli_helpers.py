"""The `regwatch` command run in-process, as a test types it: ``Cli(home=...)("search", "Grok")``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result


class Cli:
    """Runs `regwatch` in-process through click's CliRunner, as a user would type it."""

    def __init__(self, home: Path | None = None, config: Path | None = None) -> None:
        self.home = home
        self.config = config
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, expect: int | None = 0) -> Result:
        from regwatch.app.cli import cli

        argv: list[str] = []
        if self.home is not None:
            argv += ["--home", str(self.home)]
        if self.config is not None:
            argv += ["--config", str(self.config)]
        result = self.runner.invoke(cli, [*argv, *args], input=input, catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, f"exit {result.exit_code}: {result.output}"
        return result

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        return json.loads(result.stdout)
