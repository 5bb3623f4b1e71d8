"""Chat triggers' side of launch: the Slack and Telegram Web API calls launch makes for a trigger (Telegram's
setWebhook on deploy, human-approval questions) and the approval prompts they carry."""
