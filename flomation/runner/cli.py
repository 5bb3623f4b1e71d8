"""`flomation-runner [--config config.json]` (also `python -m flomation.runner`): the runner on its own box.

Needs only requirements-runner.txt (no Django, no database). Stops within a few seconds on SIGTERM/SIGINT;
executions still running then are picked up again by the API when their leases expire.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from flomation import __version__
from flomation.runner.agent import run_agent
from flomation.runner.config import ENVIRONMENT_VARIABLES, ConfigError, load_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="flomation-runner",
        description="Claims workflow executions from a Flomation API and runs them.",
        epilog="Every config.json key can also be set by environment: " + ", ".join(ENVIRONMENT_VARIABLES),
    )
    parser.add_argument(
        "--config", help="path of config.json (default: FLOMATION_RUNNER_CONFIG or ./config.json)"
    )
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    parser.add_argument("--version", action="version", version=f"flomation-runner {__version__}")
    options = parser.parse_args(argv)
    logging.basicConfig(
        level=options.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"
    )
    try:
        config = load_config(options.config)
    except ConfigError as error:
        print(f"flomation-runner: {error}", file=sys.stderr)
        return 78  # EX_CONFIG: systemd does not restart in a tight loop on a broken configuration
    stop = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        logging.getLogger("flomation.runner").info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    run_agent(config, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
