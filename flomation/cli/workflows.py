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
from flomation.cli.errors import EXIT_USAGE, CliError
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
    organisation = client.organisation_id()
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
    """Reads and checks every file first, so one bad file imports nothing."""
    sources = [(label, read_document(label, text)) for label, text in read_sources(args.files)]
    if args.name and len(sources) > 1:
        raise CliError("--name names one workflow; import the files one at a time", code=EXIT_USAGE)
    client = connect(args)
    created = []
    for label, document in sources:
        body = {"document": document, **({"name": args.name} if args.name else {})}
        answer = client.post(client.org("workflows/import"), body)
        created.append(answer)
        for warning in answer.get("warnings", []):
            print(f"warning: {label}: {warning}", file=sys.stderr)
        if not args.json:
            print(f"Imported {label} as {answer['name']} ({answer['id']})")
    if args.json:
        emit_json(created if len(created) != 1 else created[0])
    return 0


def read_document(label: str, text: str) -> Any:
    """The parsed text, after checking here that it is a valid flow (a bad file is named with its line)."""
    from flomation.executor.validate import validate_flow
    from flomation.lib.flow_document import flow_document_parse, flow_document_read

    try:
        document = flow_document_parse(text=text, filename=label)
        flow = flow_document_read(document=document).flow
    except FlowDocumentError as error:
        raise CliError(f"{label}: {error}") from None
    problems = validate_flow(flow)  # the API's own check, here before anything is imported
    if problems:
        shown = "; ".join(str(problem) for problem in problems[:3])
        more = (
            f" (and {len(problems) - 3} more; `flomation validate` lists them)" if len(problems) > 3 else ""
        )
        raise CliError(f"{label}: the flow is not valid: {shown}{more}")
    return document


ARCHIVE_MEMBER_BYTES = 10 * 1024 * 1024
ARCHIVE_MEMBERS = 1000


def read_sources(filenames: list[str]) -> list[tuple[str, str]]:
    """(label, text) for each file; a .zip (Flomation's bulk export, `.flomation.zip`) gives each .json/.yaml
    inside it, labelled `archive.zip:member`, each at most 10 MB uncompressed."""
    sources: list[tuple[str, str]] = []
    for filename in filenames:
        if filename.lower().endswith(".zip"):
            sources.extend(_archive_members(filename))
        else:
            sources.append((filename, _read_text(filename)))
    return sources


def _archive_members(filename: str) -> list[tuple[str, str]]:
    import zipfile

    try:
        with zipfile.ZipFile(filename) as archive:
            members = [
                info
                for info in archive.infolist()
                if not info.is_dir()
                and info.filename.lower().endswith((".json", *YAML_SUFFIXES))
                and not info.filename.startswith("__MACOSX/")
            ]
            if len(members) > ARCHIVE_MEMBERS:
                raise CliError(f"{filename} holds more than {ARCHIVE_MEMBERS} flow files")
            found = []
            for info in members:
                with archive.open(info) as handle:  # read with a cap: the header's size may lie
                    data = handle.read(ARCHIVE_MEMBER_BYTES + 1)
                if len(data) > ARCHIVE_MEMBER_BYTES:
                    raise CliError(f"{filename}:{info.filename} is larger than 10 MB")
                found.append((f"{filename}:{info.filename}", data.decode("utf-8-sig", errors="strict")))
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        raise CliError(f"cannot read {filename}: {error}") from None
    if not found:
        raise CliError(f"{filename} holds no .json or .yaml flow files")
    return found


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
    for filename, text in read_sources(args.files):
        try:
            read = flow_document_load(text=text, filename=filename)
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
