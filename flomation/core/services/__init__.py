"""Core's write paths. Other components call these functions, never core's tables."""
