"""Report (or clean up) an async task's job: what ``async: N`` with ``poll: 0`` started.

Behaves like ``ansible.builtin.async_status``: reads ``<async_dir>/<jid>`` (``~/.ansible_async``
of the user the task runs as, or the ``ansible_async_dir`` variable) and returns its content
with ``ansible_job_id``, ``started``, ``finished``, ``results_file`` and empty ``stdout``/``stderr``
(and their ``_lines``) unless the job wrote its own; a job still running gives ``finished: false``.
``mode: cleanup`` removes the job file (also in check mode, as Ansible's module does: the job
file is the run's own record, not managed state) and returns ``erased``. An unknown job fails
with ``could not find job``. Use ``until: result.finished`` with ``retries``/``delay`` to wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fleet.agent import asyncjob
from fleet.agent.contract import param

ALIASES: dict = {}


@dataclass(frozen=True)
class Params:
    jid: str = param("the job id (ansible_job_id of the async task's result)")
    mode: Literal["status", "cleanup"] = param("status: report the job; cleanup: remove its file", "status")
    async_dir: str = param("where job files are (set from ansible_async_dir; fleet's addition)",
                           asyncjob.DEFAULT_DIR)


def observe(p: Params, host) -> dict:
    return asyncjob.status(p.jid, p.mode, p.async_dir)
