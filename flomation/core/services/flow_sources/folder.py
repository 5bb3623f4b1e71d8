"""FLOWS_PATH: the operator's folder (or glob) of flow files, applied to FLOWS_ORGANISATION at start and
whenever a file changes. The folder is the operator's own configuration, read as the api process's user."""

from __future__ import annotations

import glob
import logging
import os
from pathlib import Path

from django.conf import settings
from django.db.models import Q

from flomation.core.models import FlowSource, Organisation
from flomation.core.services.flow_sources.apply import SyncOutcome, files_digest, flow_source_apply
from flomation.core.services.flow_sources.files import FileProblem, flow_file_wanted
from flomation.core.services.flow_sources.lease import flow_source_claim, flow_source_release

logger = logging.getLogger(__name__)
_MAGIC = set("*?[")


def _base_and_matches(pattern: str) -> tuple[Path, list[Path]]:
    """A folder: every flow file under it. A glob: its matches, named relative to the glob's fixed start."""
    if os.path.isdir(pattern):
        base = Path(pattern)
        return base, [p for p in base.rglob("*") if p.is_file()]
    parts = Path(pattern).parts
    fixed = next((i for i, part in enumerate(parts) if _MAGIC & set(part)), len(parts) - 1)
    base = Path(*parts[:fixed]) if fixed else Path(".")
    return base, [Path(p) for p in glob.glob(pattern, recursive=True) if os.path.isfile(p)]


def flows_folder_read(*, pattern: str) -> tuple[dict[str, bytes], list[FileProblem]]:
    """The flow files of a folder or glob by their path relative to it, and what could not be read."""
    base, matches = _base_and_matches(pattern)
    files: dict[str, bytes] = {}
    problems: list[FileProblem] = []
    for match in sorted(matches):
        relative = match.relative_to(base).as_posix()
        if not flow_file_wanted(relative):
            continue
        if len(files) >= settings.FLOWS_MAX_FILES:
            problems.append(
                FileProblem(relative, f"more than {settings.FLOWS_MAX_FILES} flow files (FLOWS_MAX_FILES)")
            )
            break
        try:
            if match.stat().st_size > settings.FLOWS_MAX_FILE_BYTES:
                problems.append(FileProblem(relative, f"larger than {settings.FLOWS_MAX_FILE_BYTES} bytes"))
                continue
            files[relative] = match.read_bytes()
        except OSError as error:
            problems.append(FileProblem(relative, f"cannot be read: {error.strerror}"))
    if not files and not problems and not os.path.exists(pattern) and not matches:
        logger.warning("FLOWS_PATH %s matches no file", pattern)
    return files, problems


def flows_folder_source() -> FlowSource | None:
    """The folder source of FLOWS_ORGANISATION (made on first use); None without FLOWS_PATH."""
    if not settings.FLOWS_PATH:
        return None
    wanted = settings.FLOWS_ORGANISATION
    lookup = Q(slug=wanted)
    if len(wanted) == 36:
        lookup |= Q(id=wanted)
    organisation = Organisation.objects.filter(lookup).first()
    if organisation is None:
        logger.error(
            "FLOWS_ORGANISATION %r is no organisation's slug or id; FLOWS_PATH is not loaded", wanted
        )
        return None
    source, _ = FlowSource.objects.get_or_create(
        organisation=organisation,
        kind=FlowSource.Kind.FOLDER,
        defaults={"default_environment": settings.FLOWS_ENVIRONMENT},
    )
    if source.default_environment != settings.FLOWS_ENVIRONMENT:
        FlowSource.objects.filter(id=source.id).update(default_environment=settings.FLOWS_ENVIRONMENT)
    return source


def flows_folder_sync_one() -> SyncOutcome | None:
    """One look at FLOWS_PATH under the folder source's lease: applies it if anything changed since the last
    look. Returns the outcome, or None when nothing was due or nothing changed."""
    source = flows_folder_source()
    if source is None:
        return None
    claimed = flow_source_claim(kind=FlowSource.Kind.FOLDER, source_id=source.id)
    if claimed is None:
        return None
    source, token = claimed
    try:
        files, problems = flows_folder_read(pattern=settings.FLOWS_PATH)
        digest = files_digest(files=files, default_environment=source.default_environment)
        if digest == source.content_hash:
            return None
        outcome = flow_source_apply(source=source, files=files, lease_token=token, read_problems=problems)
        FlowSource.objects.filter(id=source.id, lease_token=token).update(content_hash=digest)
        return outcome
    finally:
        flow_source_release(source=source, token=token, next_in_seconds=settings.FLOWS_POLL_SECONDS)
