"""Signals other components listen to, so identity never imports them.

credentials_revoked(sender=User, user_id=str, reason=str): every credential issued to the user before now
must stop: its password was changed or reset (reason "password_changed") or the account was deactivated
("deactivated"). Identity ends its own sessions; core revokes the user's personal API tokens.
"""

from django.dispatch import Signal

credentials_revoked = Signal()

# audited(sender=str, action=str, user_id=str|None, email=str, target_type=str, target_id=str, summary=dict):
# an identity event for the audit log (login, failed login, MFA, sessions, passwords), sent by identity's
# services inside the transaction of the change. Core records it in the platform's chain.
audited = Signal()
