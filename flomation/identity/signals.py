"""Signals other components listen to, so identity never imports them.

credentials_revoked(sender=User, user_id=str, reason=str): every credential issued to the user before now
must stop: its password was changed or reset (reason "password_changed") or the account was deactivated
("deactivated"). Identity ends its own sessions; core revokes the user's personal API tokens.
"""

from django.dispatch import Signal

credentials_revoked = Signal()
