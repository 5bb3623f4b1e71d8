"""run (optionally waiting, following the run's steps live), executions list|show|logs."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from flomation.cli.client import Client
from flomation.cli.errors import EXIT_RUN_FAILED, EXIT_STILL_RUNNING, EXIT_USAGE, CliError
from flomation.cli.output import duration, emit_json, table
from flomation.cli.workflows import connect

FINISHED = frozenset({"succeeded", "failed", "cancelled", "timed_out"})
MARKS = {"success": "ok", "failed": "FAILED", "retrying": "retrying", "cancelled": "cancelled"}


def parse_inputs(pairs: list[str]) -> dict[str, str]:
    """`--input name=value` pairs; the API converts each value to its declared type."""
    inputs: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CliError(f"--input takes name=value, not {pair!r}", code=EXIT_USAGE)
        inputs[name] = value
    return inputs


def cmd_run(args: argparse.Namespace) -> int:
    client = connect(args)
    workflow = client.workflow(args.workflow)
    body: dict[str, Any] = {"inputs": parse_inputs(args.input or [])}
    if args.env:
        body["environment"] = args.env
    if args.node:
        body["node_id"] = args.node
    headers = {"Idempotency-Key": args.idempotency_key} if args.idempotency_key else None
    execution = client.post(client.org(f"workflows/{workflow['id']}/run"), body, headers=headers)
    if not args.wait:
        if args.json:
            emit_json(execution)
        else:
            print(f"Started {workflow['name']}: execution {execution['id']} ({execution['state']})")
        return 0
    if not args.json:
        print(f"Running {workflow['name']}: execution {execution['id']}", flush=True)
    final = follow(client, execution["id"], quiet=args.json, timeout=args.timeout)
    if args.json:
        emit_json(final)
    elif final["state"] in FINISHED:
        error = f": {final['error']}" if final.get("error") else ""
        print(f"Execution {final['id']} {final['state']} in {duration(final.get('duration_ms'))}{error}")
    if final["state"] not in FINISHED:
        print(f"Execution {final['id']} is still {final['state']} after {args.timeout} s", file=sys.stderr)
        return EXIT_STILL_RUNNING
    return 0 if final["state"] == "succeeded" else EXIT_RUN_FAILED


def follow(client: Client, execution_id: str, *, quiet: bool, timeout: float | None) -> dict[str, Any]:
    """Prints each step as the run reports it (through the API's live events) and returns the execution
    once it has finished, or when `timeout` seconds have passed. The stream is reopened from the last step
    seen when the server closes it (it does every few minutes)."""
    deadline = time.monotonic() + timeout if timeout else None
    path = client.org(f"executions/{execution_id}/")
    last_step: str | None = None
    while True:
        wait = 60.0 if deadline is None else max(0.5, min(60.0, deadline - time.monotonic()))
        for event, event_id, data in client.events(path + "events", after=last_step, wait=wait):
            if event == "step" and isinstance(data, dict):
                last_step = event_id or str(data.get("id", "")) or last_step
                if not quiet and data.get("status") != "running":  # its end follows as another step
                    print_step(data)
            elif event == "end":
                return client.get(path)
            elif event == "error" and not quiet:
                print(f"(the live view said: {data}; reconnecting)", file=sys.stderr)
            if deadline is not None and time.monotonic() > deadline:
                return client.get(path)
        current = client.get(path)
        if current["state"] in FINISHED or (deadline is not None and time.monotonic() > deadline):
            return current
        time.sleep(1)


def print_step(step: dict[str, Any]) -> None:
    mark = MARKS.get(step.get("status", ""), step.get("status", "?"))
    iteration = f" #{step['iteration']}" if step.get("iteration") is not None else ""
    line = f"  {mark:<9} {step_name(step)}{iteration} {duration(step.get('duration_ms'))}"
    print(line + (f": {step['error']}" if step.get("error") else ""), flush=True)


def step_name(step: dict[str, Any]) -> str:
    """`label (action)`, or the action alone when the node was never given a label of its own."""
    label, action = step.get("label") or step.get("node_id"), step.get("action")
    return f"{action}" if label == action else f"{label} ({action})"


def cmd_executions_list(args: argparse.Namespace) -> int:
    client = connect(args)
    workflow = client.workflow(args.workflow)["id"] if args.workflow else None
    rows = list(
        client.pages(
            client.org("executions/"),
            limit=args.limit,
            workflow=workflow,
            status=args.status,
            environment=args.env,
        )
    )
    if args.json:
        emit_json(rows)
    else:
        table(
            [
                (
                    r["id"],
                    r["workflow"],
                    r["environment"],
                    r["state"],
                    r["trigger_type"],
                    r["created_at"],
                    duration(r.get("duration_ms")),
                )
                for r in rows
            ],  # fmt: skip
            ("ID", "WORKFLOW", "ENVIRONMENT", "STATE", "TRIGGER", "CREATED", "DURATION"),
        )
    return 0


def cmd_executions_show(args: argparse.Namespace) -> int:
    client = connect(args)
    execution = client.get(client.org(f"executions/{args.execution}/"))
    if args.json:
        emit_json(execution)
        return 0
    environment = (execution.get("environment") or {}).get("name", "test run")
    print(
        f"Execution {execution['id']}: {execution['workflow']['name']} r{execution['revision']} ({environment})"
    )
    print(f"  state     {execution['state']}" + (f": {execution['error']}" if execution.get("error") else ""))
    print(f"  trigger   {execution['trigger_type']}, attempt {execution['attempt']}")
    print(f"  created   {execution['created_at']}; duration {duration(execution.get('duration_ms'))}")
    if execution.get("outputs"):
        print("  outputs")
        for key, value in execution["outputs"].items():
            print(f"    {key} = {value!r}" if not isinstance(value, str) else f"    {key} = {value}")
    print("  steps")
    for step in execution.get("steps", []):
        print_step(step)
    return 0


LOG_OUTPUTS = ("stdout", "stderr", "logs", "log")


def cmd_executions_logs(args: argparse.Namespace) -> int:
    """One line per step in order, its error, and any text a script printed (stdout/stderr outputs)."""
    client = connect(args)
    steps = list(client.pages(client.org(f"executions/{args.execution}/steps")))
    if args.json:
        emit_json(steps)
        return 0
    for step in steps:
        label = step.get("label") or step.get("node_id")
        print(
            f"{step['created_at']} {step['status']:<9} {label} ({step['action']}) {duration(step.get('duration_ms'))}"
        )
        if step.get("error"):
            print(f"    error: {step['error']}")
        outputs = step.get("outputs") if isinstance(step.get("outputs"), dict) else {}
        for key in LOG_OUTPUTS:
            text = outputs.get(key)
            if isinstance(text, str) and text.strip():
                for line in text.rstrip("\n").splitlines():
                    print(f"    {key}: {line}")
    return 0
