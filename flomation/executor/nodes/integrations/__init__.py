"""Nodes that reach outside services (brokers, databases, mail, ...), one module or package per area."""
