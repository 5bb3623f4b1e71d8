"""Signals other components listen to, so core never imports them.

deployment_activated(sender=Deployment, deployment=Deployment): a deployment became current for its
workflow and environment (deploy, rollback or promotion). Launch turns its trigger nodes into triggers.
"""

from django.dispatch import Signal

deployment_activated = Signal()
