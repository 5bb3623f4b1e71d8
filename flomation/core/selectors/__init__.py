"""Core's read paths. Every selector of tenant data takes the organisation and scopes by it."""
