"""Script sandboxes: the Python worker process and its parent-side client."""
