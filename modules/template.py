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

from fleet.agent.contract import param

ALIASES = {"path": "dest"}
RUNS_ON = "controller"  # rendered by the controller, applied by modules/copy.py


@dataclass(frozen=True)
class Params:
    src: str = param("the Jinja2 template, on the controller")
    dest: str = param("the file to write on the host")
    mode: int | str | None = param(
        "permissions of the file: octal (\"0644\"), symbolic (\"u=rw,g=r,o=r\") or preserve (the template's)", None)
    owner: str | None = param("user that should own the file (kept as it is when not given)", None)
    group: str | None = param("group that should own the file (kept as it is when not given)", None)
    backup: bool = param(
        "keep a timestamped copy of the old file before changing it (backup_file)", False)
    force: bool = param(
        "replace a file whose content differs; false only creates a missing file", True)
    validate: str | None = param(
        "command run on the candidate file before it replaces the old one; %s is its path", None)
    newline_sequence: str = param(
        "line break of the template's own lines: \"\\n\", \"\\r\" or \"\\r\\n\" (escaped forms accepted)", "\n")
    trim_blocks: bool = param("remove the first newline after a block tag", True)
    lstrip_blocks: bool = param("strip spaces and tabs before a block tag", False)
    follow: bool = param("write through a symlink dest instead of replacing the link", False)
    variable_start_string: str | None = param("what opens an expression (Jinja2's \"{{\")", None)
    variable_end_string: str | None = param("what closes an expression (Jinja2's \"}}\")", None)
    block_start_string: str | None = param("what opens a block (Jinja2's \"{%\")", None)
    block_end_string: str | None = param("what closes a block (Jinja2's \"%}\")", None)
    comment_start_string: str | None = param("what opens a comment (Jinja2's \"{#\")", None)
    comment_end_string: str | None = param("what closes a comment (Jinja2's \"#}\")", None)
    output_encoding: str = param("encoding of the written file (the template is read as UTF-8)", "utf-8")
