"""Flows as code: workflows managed in files, from the operator's folder (FLOWS_PATH) or an organisation's
Git repository (see docs/flows-as-code.md)."""
