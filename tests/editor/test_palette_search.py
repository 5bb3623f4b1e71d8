"""The palette's node search over HTTP: by PostgreSQL full-text ranking when no embedding service is set,
by meaning (pgvector) with one (a loopback OpenAI-compatible /embeddings server that checks each request),
and back to keywords, saying so, when that service fails."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = pytest.mark.django_db

# A toy embedding: one dimension per concept, so "a letter to a customer" lands next to the email nodes.
CONCEPTS = (
    ("mail", "email", "letter", "smtp"),
    ("vector", "embedding", "similar"),
    ("schedule", "cron", "every"),
    ("slack", "teams", "telegram", "discord", "chat", "profile", "people"),
)


def toy_vector(text: str) -> list[float]:
    low = text.lower()
    return [float(sum(low.count(word) for word in words)) + 0.01 for words in CONCEPTS]


@pytest.fixture
def embedding_server(settings):
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # noqa: ANN002, ANN201
            pass

        def do_POST(self):  # noqa: N802, ANN201
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
            if server.fail:
                answer, status = {"error": {"message": "overloaded"}}, 503
            else:
                data = [{"index": i, "embedding": toy_vector(text)} for i, text in enumerate(body["input"])]
                answer, status = {"data": data, "model": body["model"]}, 200
            raw = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.fail = False
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.FLOMATION_EMBEDDING_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}/v1"
    settings.FLOMATION_EMBEDDING_API_KEY = "emb-key"
    settings.FLOMATION_EMBEDDING_MODEL = "toy-embed"
    yield server, seen
    server.shutdown()
    server.server_close()


def search(client, q):
    response = client.get("/palette/search", {"q": q})
    assert response.status_code == 200
    return response.json()


def test_without_an_embedding_service_the_search_ranks_by_full_text(team, browser_for):
    client = browser_for("member")
    found = search(client, "send email")
    assert found["mode"] == "keywords" and found["label"] == "Ranked by keywords (PostgreSQL full-text)"
    assert found["results"][0]["action"] in ("messaging/email/send", "common/smtp")
    # Nodes with every word of the query come first; those that only send something else trail off the list.
    assert not [hit for hit in found["results"] if hit["action"].startswith("messaging/telegram/")]
    prefixed = [hit["action"] for hit in search(client, "sched")["results"]]
    assert "trigger/schedule" in prefixed[:3]
    assert search(client, "   ")["results"] == []


def test_with_an_embedding_service_the_search_ranks_by_meaning(team, browser_for, embedding_server):
    server, seen = embedding_server
    client = browser_for("member")
    found = search(client, "a letter to a customer")
    assert found["mode"] == "meaning" and found["label"] == "Ranked by meaning (toy-embed)"
    top = [hit["action"] for hit in found["results"][:2]]
    assert set(top) <= {"messaging/email/send", "common/smtp", "trigger/email"}, top
    first, last = seen[0], seen[-1]
    assert first["path"] == "/v1/embeddings" and first["auth"] == "Bearer emb-key"
    assert first["body"]["model"] == "toy-embed" and len(first["body"]["input"]) > 50  # the catalogue, once
    assert last["body"] == {"model": "toy-embed", "input": ["a letter to a customer"]}
    calls = len(seen)
    search(client, "every night")
    assert len(seen) == calls + 1 and seen[-1]["body"]["input"] == ["every night"]  # the catalogue is cached


def test_a_failing_embedding_service_falls_back_to_keywords_and_says_so(team, browser_for, embedding_server):
    server, _seen = embedding_server
    server.fail = True
    found = search(browser_for("member"), "send email")
    assert found["mode"] == "keywords"
    assert found["label"] == "Ranked by keywords (PostgreSQL full-text): the embedding service failed"
    assert found["results"]
