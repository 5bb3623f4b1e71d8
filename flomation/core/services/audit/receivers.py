"""Events other components announce, recorded here: identity's (it must not import core) and the admin's."""

from __future__ import annotations

from typing import Any

from flomation.core.services.audit.record import audit_record
from flomation.lib.audit_context import Actor, actor_current


def identity_event_record(
    *,
    action: str,
    user_id: str | None,
    email: str,
    target_type: str,
    target_id: str,
    summary: dict[str, Any],
    **_: Any,
) -> None:
    """identity's `audited` receiver: into the platform's chain, as done by (or attempted as) the user."""
    actor = Actor("user", id=user_id or "", label=email, account=user_id or "")
    audit_record(action=action, target_type=target_type, target_id=target_id, summary=summary, actor=actor)


_ADMIN_VERBS = {1: "added", 2: "changed", 3: "deleted"}


def _organisation_of(model: Any, object_id: str) -> Any:
    """The organisation a core row belongs to (None for the platform's own rows or one already gone)."""
    from flomation.core.models import Organisation

    if model is None or model._meta.app_label != "core":
        return None
    if model is Organisation:
        return object_id
    names = {field.name for field in model._meta.get_fields()}
    if "organisation" in names or "organisation_id" in names:
        try:
            return model.objects.filter(pk=object_id).values_list("organisation_id", flat=True).first()
        except (ValueError, TypeError):
            return None
    return None


def admin_log_record(*, instance: Any, created: bool, **_: Any) -> None:
    """Django admin's LogEntry post_save receiver: each operator action, with what the admin logged."""
    if not created:
        return
    content_type = instance.content_type
    model = content_type.model_class() if content_type else None
    target_type = f"{content_type.app_label}.{content_type.model}" if content_type else ""
    current = actor_current()
    actor = (
        current
        if current.type == "user" and current.id == str(instance.user_id)
        else Actor(
            "user", id=str(instance.user_id), label=f"admin {instance.user_id}", account=str(instance.user_id)
        )
    )
    audit_record(
        action=f"admin.{_ADMIN_VERBS.get(instance.action_flag, 'acted')}",
        organisation_id=_organisation_of(model, instance.object_id),
        target_type=target_type[:32],
        target_id=instance.object_id or "",
        summary={"object": instance.object_repr, "change": instance.get_change_message()[:500]},
        actor=actor,
    )
