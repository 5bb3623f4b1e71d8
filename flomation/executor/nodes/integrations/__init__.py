"""Nodes that reach services outside the platform (one module per family), each through the egress policy."""
