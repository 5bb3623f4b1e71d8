"""Serializers shape API output and check the form of input; services check meaning."""
