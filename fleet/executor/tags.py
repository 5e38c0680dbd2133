"""Ansible's tag selection rules for ``--tags`` / ``--skip-tags``.

Special tags: ``always`` runs unless skipped explicitly, ``never`` runs only when asked for,
``all`` (the default selection), ``tagged`` and ``untagged``.
"""

from __future__ import annotations

UNTAGGED = frozenset({"untagged"})


def selected(task_tags: frozenset[str], only: frozenset[str], skip: frozenset[str]) -> bool:
    """Whether a task with ``task_tags`` runs under ``--tags only --skip-tags skip``."""
    tags = task_tags or UNTAGGED
    only = only or frozenset({"all"})
    # an untagged task carries the tag "untagged", so "--tags untagged" selects it directly
    run = (
        "always" in tags
        or ("all" in only and "never" not in tags)
        or not tags.isdisjoint(only)
        or ("tagged" in only and tags != UNTAGGED and "never" not in tags)
    )
    if run and skip:
        if "all" in skip:
            run = "always" in tags and "always" not in skip
        elif not tags.isdisjoint(skip) or ("tagged" in skip and tags != UNTAGGED):
            run = False
    return run
