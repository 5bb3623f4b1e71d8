"""Nodes that reach services outside the run: email, databases, files in the run's workspace, web pages,
git, SSH, S3 and message brokers (each module one family).

Each module imports its client library inside the node function (the executor starts fast), opens its
connections through the egress policy (the connection type modules in ``flomation.lib.connections`` hold
the client-opening code the nodes share with each type's ``test``), and turns a failure into a sentence
that names what failed and never a secret.
"""
