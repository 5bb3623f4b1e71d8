"""Built-in nodes. ``BUILTIN_INDEX`` maps each action id to the module that declares it, so a run
imports only the modules its flow uses (a test checks the index against the modules)."""

from __future__ import annotations

_MODULES = {
    "triggers": (
        "trigger/manual trigger/webhook trigger/web trigger/schedule trigger/form trigger/qr trigger/image "
        "trigger/email trigger/git_poll trigger/database_row trigger/queue "
        "trigger/mqtt trigger/s3 trigger/slack trigger/telegram trigger/teams trigger/mcp"
    ),
    "control": (
        "conditional/if conditional/switch conditional/for conditional/while conditional/for_each "
        "error/on_error subflow/begin subflow/invoke subflow/end"
    ),
    "flowctl": (
        "common/wait common/pause humanintheloop/await common/sleep common/start_flow common/set_variable"
    ),
    "output": "output/set output/set_outputs output/web_response",
    "strings": (
        "string/concatenate string/contains string/join string/lower_case string/upper_case string/repeat "
        "string/replace string/substring string/trim string/trim_start string/trim_end string/split"
    ),
    "arithmetic": "arithmetic/addition arithmetic/subtraction arithmetic/multiplication arithmetic/division",
    "structures": (
        "common/array_find common/array_index common/array_length common/object_get common/data_combine "
        "common/data_extract common/data_rename array/sort array/unique array/slice object/merge object/keys "
        "object/set"
    ),
    "formats": (
        "common/format_date data/json_parse data/json_stringify data/csv_parse data/csv_format data/jmespath "
        "data/field_map"
    ),
    "web": "web/request",
    "integrations.email": "messaging/email/send common/smtp",
    "script_js": "script/javascript",
    "script_python": "script/python",
    "script_bash": "script/bash",
    "integrations.sql": "sql/postgresql sql/mysql",
    "integrations.redis": "nosql/redis",
    "integrations.mongodb": "nosql/mongodb",
    "integrations.files": "file/read file/write",
    "integrations.fetch": "web/fetch",
    "integrations.brokers": (
        "messagebrokers/mqtt/publish messagebrokers/mqtt/request_reply messagebrokers/mqtt/message_wait "
        "messagebrokers/mqtt/retained_get messagebrokers/mqtt/retained_clear messagebrokers/amqp/publish "
        "messagebrokers/redis/stream_add messagebrokers/nats/publish"
    ),
    "integrations.ssh": "ssh/run filetransfer/upload filetransfer/download",
    "integrations.s3": "aws/s3/get aws/s3/put aws/s3/delete aws/s3/list",
    "mcp_client": "ai/mcp_client",
    "vectors": (
        "vectordatabase/pgvector/create_collection vectordatabase/pgvector/list_collections "
        "vectordatabase/pgvector/upsert vectordatabase/pgvector/query vectordatabase/pgvector/hybrid_search "
        "vectordatabase/pgvector/delete"
    ),
    "ai.models": "ai/openai ai/anthropic ai/ollama ai/openrouter ai/groq ai/azure_openai",
    "ai.embed": "ai/embed_text",
    "ai.agent": "ai/agent",
    "integrations.chat.slack": "slack/send_message slack/rich_message slack/react slack/webhook",
    "integrations.chat.slack_read": (
        "slack/thread slack/history slack/channels slack/users slack/file_upload slack/search slack/user_profile"
    ),
    "integrations.chat.teams": (
        "microsoft/teams/send_channel_message microsoft/teams/send_chat_message microsoft/teams/reply "
        "microsoft/teams/webhook"
    ),
    "integrations.chat.teams_manage": (
        "microsoft/teams/list_teams microsoft/teams/list_channels microsoft/teams/list_channel_messages "
        "microsoft/teams/create_channel"
    ),
    "integrations.chat.telegram": (
        "messaging/telegram/send_message messaging/telegram/send_photo messaging/telegram/send_document "
        "messaging/telegram/send_audio messaging/telegram/send_video"
    ),
    "integrations.chat.discord": "messaging/discord/webhook",
    "integrations.chat.twilio": "twilio/send_sms twilio/make_call",
    "integrations.git": "git/clone git/checkout git/add git/commit git/push git/pull git/branch git/tag git/status",
}

BUILTIN_INDEX: dict[str, str] = {
    action: module for module, actions in _MODULES.items() for action in actions.split()
}
