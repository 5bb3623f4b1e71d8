"""Flomation: self-hosted workflow automation."""

__version__ = "0.1.0"
