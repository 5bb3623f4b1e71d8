"""Nodes that reach services outside the platform (each module one family), through the egress policy."""
