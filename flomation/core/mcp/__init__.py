"""An environment's deployed flows as tools of a Model Context Protocol server (Streamable HTTP).

A flow opts in with a `trigger/mcp` node (its tool name and description); the tool's input schema is the
flow's manual trigger's input schema, and calling the tool runs the flow's deployment in that environment
and answers with its outputs. The endpoint is `POST /api/v1/mcp/<environment id>`, authenticated by a
personal API token of the environment's organisation whose owner may run flows.

The official SDK's server is an ASGI (Starlette) application with per-session tasks; the platform's roles are
served by WSGI workers, so this speaks the documented JSON-RPC Streamable HTTP protocol itself, statelessly
(no session id, JSON responses, no server-sent stream), and is tested with the SDK's client.
"""
