"""The one kind of failure the command line reports: a sentence, printed on one line, and an exit code."""

from __future__ import annotations

# Exit codes, documented in docs/cli.md.
EXIT_ERROR = 1  # the command could not be done (API refusal, unreachable server, bad file)
EXIT_USAGE = 2  # the command line itself was wrong (argparse uses 2 as well)
EXIT_RUN_FAILED = 3  # `run --wait`: the run ended failed, cancelled or timed out
EXIT_STILL_RUNNING = 4  # `run --wait --timeout`: the run had not ended when the time was up


class CliError(Exception):
    def __init__(self, message: str, *, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
