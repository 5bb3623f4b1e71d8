"""Embeddings from an OpenAI-compatible `/embeddings` endpoint (OpenAI, Azure OpenAI's compatible endpoint,
Ollama, vLLM, LM Studio, TEI...), over a requests session the caller chooses (the executor's is
egress-checked). No Django."""

from __future__ import annotations

from typing import Any

MAX_TEXTS = 256


class EmbeddingError(Exception):
    """The embedding service failed; the message names what failed and never the key."""


def embed_openai(
    session: Any,
    *,
    base_url: str,
    api_key: str,
    model: str,
    texts: list[str],
    timeout: float,
    dimensions: int | None = None,
) -> list[list[float]]:
    """One vector per text, in order."""
    if not texts:
        return []
    if len(texts) > MAX_TEXTS:
        raise EmbeddingError(f"at most {MAX_TEXTS} texts are embedded at once")
    body: dict[str, Any] = {"model": model, "input": texts}
    if dimensions:
        body["dimensions"] = int(dimensions)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    base = base_url.rstrip("/")
    try:
        response = session.post(f"{base}/embeddings", json=body, headers=headers, timeout=timeout)
    except OSError as error:
        raise EmbeddingError(
            f"the embedding service at {base} could not be reached: {type(error).__name__}"
        ) from None
    if response.status_code != 200:
        raise EmbeddingError(f"the embedding service answered {response.status_code}: {_reason(response)}")
    try:
        data = sorted(response.json()["data"], key=lambda item: item.get("index", 0))
        vectors = [[float(number) for number in item["embedding"]] for item in data]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise EmbeddingError("the embedding service's answer has no embeddings in it") from None
    if len(vectors) != len(texts):
        raise EmbeddingError(f"the embedding service returned {len(vectors)} vectors for {len(texts)} texts")
    return vectors


def _reason(response: Any) -> str:
    try:
        error = response.json().get("error")
        message = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        message = None
    return str(message or response.reason or "no reason given")[:300]
