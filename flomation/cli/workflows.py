"""login, workflows list|export|import, deploy, promote, rollback, triggers list, validate."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from flomation.cli.client import Client
from flomation.cli.config import Settings, config_read, config_write, settings_load
from flomation.cli.errors import CliError
from flomation.cli.output import emit_json, table
from flomation.lib.flow_document import YAML_SUFFIXES, FlowDocumentError, flow_document_load


def connect(args: argparse.Namespace) -> Client:
    return Client(settings_load(organisation=args.org))


def cmd_login(args: argparse.Namespace) -> int:
    stored = config_read()
    url = (args.url or os.environ.get("FLOMATION_URL") or stored.get("url") or "").rstrip("/")
    if not url:
        url = input("API address (for example https://flomation.example.com): ").strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise CliError(f"the API address must start with http:// or https://, not {url!r}")
    if args.token_stdin:
        token = sys.stdin.readline().strip()
    else:
        token = os.environ.get("FLOMATION_TOKEN") or getpass.getpass("Personal API token (flo_…): ").strip()
    if not token:
        raise CliError("no token given; create one under Settings → API tokens")
    client = Client(Settings(url=url, token=token, organisation=args.org))
    me = client.me()
    organisation = client.org().split("/")[1]
    name = next(
        (
            m["organisation"]["name"]
            for m in me["memberships"]
            if str(m["organisation"]["id"]) == organisation
        ),
        organisation,
    )
    path = config_write(url=url, token=token, organisation=organisation)
    if args.json:
        emit_json({"url": url, "account": me["account"], "organisation": organisation, "config": str(path)})
    else:
        print(f"Logged in to {url} as {me['account'].get('email', '?')} in {name}; saved to {path}")
    return 0


def cmd_workflows_list(args: argparse.Namespace) -> int:
    client = connect(args)
    rows = list(client.pages(client.org("workflows/"), state=args.state, search=args.search))
    if args.json:
        emit_json(rows)
    else:
        table(
            [(r["id"], r["name"], r["state"], r.get("latest_revision"), r.get("updated_at")) for r in rows],
            ("ID", "NAME", "STATE", "REVISION", "UPDATED"),
        )
    return 0


def cmd_workflows_export(args: argparse.Namespace) -> int:
    client = connect(args)
    workflow = client.workflow(args.workflow)
    document = client.get(client.org(f"workflows/{workflow['id']}/export"), revision=args.revision)
    if args.output and args.output != "-":
        target = Path(args.output)
        if target.suffix.lower() in YAML_SUFFIXES:
            import yaml

            target.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
        else:
            target.write_text(json.dumps(document, indent=2) + "\n")
        print(f"Exported {workflow['name']} r{document.get('revision')} to {target}", file=sys.stderr)
    else:
        emit_json(document)
    return 0


def cmd_workflows_import(args: argparse.Namespace) -> int:
    client = connect(args)
    created = []
    for filename in args.files:
        document = read_document(filename)
        body = {"document": document, **({"name": args.name} if args.name else {})}
        answer = client.post(client.org("workflows/import"), body)
        created.append(answer)
        for warning in answer.get("warnings", []):
            print(f"warning: {filename}: {warning}", file=sys.stderr)
        if not args.json:
            print(
                f"Imported {filename} as {answer['name']} ({answer['id']}), revision {answer.get('latest_revision')}"
            )
    if args.json:
        emit_json(created if len(created) != 1 else created[0])
    return 0


def read_document(filename: str) -> Any:
    """The parsed file, after checking it reads as a flow here (so a bad file is named with its line)."""
    from flomation.lib.flow_document import flow_document_parse, flow_document_read

    text = _read_text(filename)
    try:
        document = flow_document_parse(text=text, filename=filename)
        flow_document_read(document=document)
    except FlowDocumentError as error:
        raise CliError(f"{filename}: {error}") from None
    return document


def _read_text(filename: str) -> str:
    try:
        return sys.stdin.read() if filename == "-" else Path(filename).read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"cannot read {filename}: {error}") from None


def cmd_deploy(args: argparse.Namespace) -> int:
    body = {"environment": args.env, "revision": args.revision, "version_tag": args.tag, "notes": args.notes}
    return _deployment_change(args, "deployments/", body, "Deployed")


def cmd_promote(args: argparse.Namespace) -> int:
    body = {"source": args.source, "target": args.target, "notes": args.notes}
    return _deployment_change(args, "promote", body, "Promoted")


def cmd_rollback(args: argparse.Namespace) -> int:
    body = {"environment": args.env, "revision": args.revision, "notes": args.notes}
    return _deployment_change(args, "rollback", body, "Rolled back")


def _deployment_change(args: argparse.Namespace, endpoint: str, body: dict[str, Any], verb: str) -> int:
    """POSTs the non-empty fields of `body` to the workflow's `endpoint` and reports the new deployment."""
    client = connect(args)
    workflow = client.workflow(args.workflow)
    answer = client.post(
        client.org(f"workflows/{workflow['id']}/{endpoint}"), {k: v for k, v in body.items() if v}
    )
    if args.json:
        emit_json(answer)
    else:
        environment = answer.get("environment", {}).get("name", "?")
        print(f"{verb} {workflow['name']} r{answer.get('revision')} to {environment}")
    return 0


def cmd_triggers_list(args: argparse.Namespace) -> int:
    client = connect(args)
    workflows = (
        [client.workflow(args.workflow)] if args.workflow else list(client.pages(client.org("workflows/")))
    )
    rows: list[dict[str, Any]] = []
    for workflow in workflows:
        answer = client.get(client.org(f"workflows/{workflow['id']}/triggers"), environment=args.env)
        rows.extend({**row, "workflow_name": workflow["name"]} for row in answer.get("results", []))
    if args.json:
        emit_json(rows)
    else:
        table(
            [
                (
                    r["workflow_name"],
                    r["environment"]["name"],
                    r["node_id"],
                    r["kind"],
                    _state(r),
                    r.get("url"),
                )
                for r in rows
            ],
            ("WORKFLOW", "ENVIRONMENT", "NODE", "KIND", "STATE", "URL"),
        )
    return 0


def _state(row: dict[str, Any]) -> str:
    return "active" if row.get("active") and row.get("enabled") else "inactive"


def cmd_validate(args: argparse.Namespace) -> int:
    """Checks files offline with the executor's own validator; needs no server or token."""
    from flomation.executor.validate import validate_flow

    failed = False
    results = []
    for filename in args.files:
        try:
            read = flow_document_load(text=_read_text(filename), filename=filename)
            problems = [error.to_dict() for error in validate_flow(read.flow)]
        except FlowDocumentError as error:
            problems = [{"node_id": None, "field": None, "message": str(error)}]
            read = None
        failed = failed or bool(problems)
        results.append({"file": filename, "valid": not problems, "problems": problems})
        if args.json:
            continue
        if not problems:
            print(f"{filename}: valid ({len(read.flow.get('nodes', []))} nodes)")
        for problem in problems:
            where = "/".join(str(problem[key]) for key in ("node_id", "field") if problem.get(key))
            print(f"{filename}: {'[' + where + '] ' if where else ''}{problem['message']}")
    if args.json:
        emit_json(results if len(results) != 1 else results[0])
    return 1 if failed else 0
