"""Render a Jinja2 template on the controller and install it on the host.

The template is found like Ansible finds it (the role's ``templates/``, then beside the task
file, then the playbook's ``templates/``), rendered with the host's variables using Ansible's
template-module defaults (``trim_blocks: true``, ``lstrip_blocks: false``, trailing newline
kept), and shipped to the host's ``copy`` module: the write is atomic, ``validate`` runs on the
new file before it replaces the old one, and ``--diff`` shows a unified diff. Extra variables
available to the template: ``template_path``, ``template_fullpath``, ``template_host``,
``template_uid``, ``template_run_date``, ``template_destpath``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ALIASES = {"path": "dest"}
RUNS_ON = "controller"  # rendered by the controller, applied by modules/copy.py


@dataclass(frozen=True)
class Params:
    src: str
    dest: str
    mode: int | str | None = None
    owner: str | None = None
    group: str | None = None
    backup: bool = False
    force: bool = True
    validate: str | None = None
    newline_sequence: Literal["\n", "\r", "\r\n"] = "\n"
    trim_blocks: bool = True
    lstrip_blocks: bool = False
    follow: bool = False
