"""AI nodes: model prompts (`ai/openai`, `ai/anthropic`, `ai/ollama`, `ai/openrouter`, `ai/groq`,
`ai/azure_openai`), `ai/embed_text` and the tool-calling `ai/agent`. The wire protocols live in
`flomation.lib.llm`; every call goes through the run's egress-checked HTTP session."""
