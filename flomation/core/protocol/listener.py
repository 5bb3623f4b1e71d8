"""The process's listener lives in flomation.core.executions.listener; this name stays for old imports."""

from flomation.core.executions.listener import Listener, Waiter, listener, listener_close

__all__ = ["Listener", "Waiter", "listener", "listener_close"]
