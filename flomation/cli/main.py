"""`flomation <command>`: parsing the command line and turning every failure into one line and an exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from flomation.cli import runs, workflows
from flomation.cli.errors import CliError


def build_parser() -> argparse.ArgumentParser:
    from flomation import __version__

    def options(*, suppress: bool) -> argparse.ArgumentParser:
        # The same options before or after the command; after it they must not reset what was given before
        # (argparse copies a subcommand's defaults over the main parser's values).
        made = argparse.ArgumentParser(add_help=False)
        extra = {"default": argparse.SUPPRESS} if suppress else {}
        made.add_argument("--json", action="store_true", help="answer with JSON for scripts", **extra)
        made.add_argument(
            "--org",
            help="organisation id or name (default: FLOMATION_ORG, the login's, or your only one)",
            **extra,
        )
        return made

    common = options(suppress=True)
    parser = argparse.ArgumentParser(
        prog="flomation",
        description="Work with a Flomation platform from a terminal or CI. The API address and token come "
        "from FLOMATION_URL and FLOMATION_TOKEN, or from the file `flomation login` writes.",
        parents=[options(suppress=False)],
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        sub: argparse._SubParsersAction, name: str, handler: object, help_: str
    ) -> argparse.ArgumentParser:
        made = sub.add_parser(name, help=help_, description=help_, parents=[common])
        made.set_defaults(handler=handler)
        return made

    login = command(
        commands, "login", workflows.cmd_login, "check a personal API token and save it with the address"
    )
    login.add_argument("--url", help="the platform's address, e.g. https://flomation.example.com")
    login.add_argument("--token-stdin", action="store_true", help="read the token from standard input")

    wf = commands.add_parser("workflows", help="list, export and import workflows").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    listing = command(wf, "list", workflows.cmd_workflows_list, "list workflows")
    listing.add_argument("--state", help="draft, active, published, paused or archived")
    listing.add_argument("--search", help="part of the name")
    export = command(wf, "export", workflows.cmd_workflows_export, "export a workflow (secrets left out)")
    export.add_argument("workflow", help="id or exact name")
    export.add_argument("--revision", type=int)
    export.add_argument("-o", "--output", help="file to write (.json or .yaml); default: standard output")
    imported = command(
        wf, "import", workflows.cmd_workflows_import, "import flows: exports, Flomation exports, bare flows"
    )
    imported.add_argument("files", nargs="+", help="JSON or YAML files; - reads standard input")
    imported.add_argument("--name", help="name for the new workflow (default: the file's)")

    deploy = command(commands, "deploy", workflows.cmd_deploy, "deploy a revision to an environment")
    deploy.add_argument("workflow", help="id or exact name")
    deploy.add_argument("--env", required=True, help="environment id or name, e.g. production")
    deploy.add_argument("--revision", type=int, help="default: the latest")
    deploy.add_argument("--tag", help="version tag to record, e.g. the Git commit")
    deploy.add_argument("--notes")

    promote = command(
        commands, "promote", workflows.cmd_promote, "deploy what is current in one environment to the next"
    )
    promote.add_argument("workflow", help="id or exact name")
    promote.add_argument("--from", dest="source", required=True, help="source environment")
    promote.add_argument("--to", dest="target", help="target environment (default: the next by position)")
    promote.add_argument("--notes")

    rollback = command(
        commands, "rollback", workflows.cmd_rollback, "go back to an earlier deployed revision"
    )
    rollback.add_argument("workflow", help="id or exact name")
    rollback.add_argument("--env", required=True)
    rollback.add_argument("--revision", type=int, help="default: the previous deployed revision")
    rollback.add_argument("--notes")

    run = command(commands, "run", runs.cmd_run, "run a workflow now")
    run.add_argument("workflow", help="id or exact name")
    run.add_argument(
        "--env", help="run the environment's deployment (default: a test run of the latest revision)"
    )
    run.add_argument(
        "--input", action="append", metavar="NAME=VALUE", help="an input of the manual trigger (repeatable)"
    )
    run.add_argument("--node", help="which manual trigger, when the flow has several")
    run.add_argument(
        "--wait", action="store_true", help="follow the steps and exit with the outcome (0 succeeded, 3 not)"
    )
    run.add_argument("--timeout", type=float, help="with --wait: give up after this many seconds (exit 4)")
    run.add_argument(
        "--idempotency-key", help="a repeated key returns the first run instead of starting another"
    )

    ex = commands.add_parser("executions", help="list runs, show one, read its log").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    ex_list = command(ex, "list", runs.cmd_executions_list, "list executions, newest first")
    ex_list.add_argument("--workflow", help="id or exact name")
    ex_list.add_argument("--status", help="comma-separated states, e.g. failed,timed_out")
    ex_list.add_argument("--env")
    ex_list.add_argument("--limit", type=int, default=20)
    for name, handler, text in (
        ("show", runs.cmd_executions_show, "an execution with its outputs and steps"),
        ("logs", runs.cmd_executions_logs, "an execution's steps as a log, with what scripts printed"),
    ):
        command(ex, name, handler, text).add_argument("execution", help="execution id")

    tr = commands.add_parser("triggers", help="where deployed workflows can be triggered").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    tr_list = command(tr, "list", workflows.cmd_triggers_list, "deployed triggers with their URLs")
    tr_list.add_argument("workflow", nargs="?", help="id or exact name (default: every workflow)")
    tr_list.add_argument("--env", help="environment id or name (default: all)")

    validate = command(
        commands, "validate", workflows.cmd_validate, "check flow files offline (exit 1 if any is invalid)"
    )
    validate.add_argument("files", nargs="+", help="JSON or YAML files; - reads standard input")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except CliError as error:
        print(f"flomation: {error.message}", file=sys.stderr)
        return error.code
    except KeyboardInterrupt:
        print("flomation: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
