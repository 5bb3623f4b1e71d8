"""The editor's views: thin, calling the platform through flomation.editor.gateway."""
