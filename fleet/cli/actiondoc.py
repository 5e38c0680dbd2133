"""Documentation of the controller's own actions for ``fleet modules``: they have no module
file (they run on the controller, as Ansible's action plugins do), so their text lives here."""

from __future__ import annotations

from dataclasses import dataclass

from fleet.executor import META_ACTIONS


@dataclass(frozen=True)
class Action:
    """One controller action: a one-line summary, what it does, and its parameters."""

    name: str
    summary: str
    details: str
    parameters: tuple[str, ...]

    def describe(self) -> str:
        """The text ``fleet modules NAME`` prints, in the layout of a module's."""
        return "\n".join([f"{self.name} — controller action (runs on the controller, not on the host)", "",
                          self.summary, "", self.details, "", "Parameters:",
                          *(f"  {line}" for line in self.parameters)])


ACTIONS = {action.name: action for action in (
    Action("assert", "Fail the host unless every condition is true.",
           "Conditions are expressions as in `when` (no {{ }}), evaluated for each host on the controller.",
           ("that (str | list[str]) required: the conditions",
            "fail_msg (any) default='Assertion failed' (alias msg): the message when one is false",
            "success_msg (any) default='All assertions passed'")),
    Action("debug", "Print a message or a variable's value; changes nothing.",
           "Shown at every verbosity from its `verbosity` on (skipped below it, as in Ansible). `var` names "
           "a variable or an expression whose value is shown; an "
           "undefined one shows 'VARIABLE IS NOT DEFINED!' instead of failing, as in Ansible.",
           ("msg (any) default='Hello world!': the message (a mapping or list is shown as JSON)",
            "var (str): show this variable's value instead of msg",
            "verbosity (int) default=0: run only from this -v count on (skipped below, as Ansible)")),
    Action("fail", "Fail the host with a message.", "Usually with `when`: stop a host that is not as expected.",
           ("msg (str) default='Failed as requested from task'",)),
    Action("include_vars", "Load variables from a YAML or JSON file for the rest of the run.",
           "The file is looked up in the role's vars/ or beside the playbook; vault-encrypted files are "
           "decrypted. A name computed from host data may not leave the project.",
           ("file (str) required (or free form): the vars file",
            "name (str): put the file's variables under this one variable")),
    Action("set_fact", "Set variables of the host for the rest of the run.",
           "Precedence of set_fact/register (above play and role vars, below -e). Values computed from "
           "host data stay host data: never rendered as templates again.",
           ("NAME (any): any number of variables, as NAME: VALUE or NAME=VALUE",
            "cacheable (bool): also keep the values in the fact cache (ansible.cfg's fact_caching = jsonfile)")),
    Action("meta", "Control the run itself.", f"Actions: {', '.join(sorted(META_ACTIONS))}.",
           ("free form (str) required: one action, e.g. meta: flush_handlers",)),
    Action("include_tasks", "Run the tasks of a file, chosen when the task runs (a loop, a template).",
           "Loops and conditions apply to the include; use a block around it to set keywords on its tasks.",
           ("file (str) required (or free form): the task file",)),
    Action("import_tasks", "Inline the tasks of a file when the playbook is loaded.",
           "Keywords on the import (when, tags, become...) apply to every imported task; it cannot loop.",
           ("file (str) required (or free form): the task file",)),
    Action("include_role", "Run a role, chosen when the task runs.", "As Ansible's include_role.",
           ("name (str) required", "tasks_from, vars_from, defaults_from, handlers_from (str): other files "
            "of the role", "allow_duplicates (bool): run the role again when it already ran in this play")),
    Action("validate_argument_spec", "Check values against an argument spec (a role's, or given).",
           "Ansible adds it before a role's tasks when the role's entry point has an argument spec; the "
           "spec's variables and the provided arguments are checked with ansible-core's validator "
           "(without ansible-core: ok, with a warning that nothing was checked).",
           ("argument_spec (dict) required: options as in a module's argument spec",
            "provided_arguments (dict): values to check (they win over variables of the same name)")),
    Action("group_by", "Put the host in a group made from its variables, for the rest of the run.",
           "Later plays' hosts: patterns, groups and group_names see it (from the next task on). changed "
           "when the host joined the group, as in Ansible.",
           ("key (str) required: the group's name (spaces become -)",
            "parents (str | list[str]) default=['all']: the groups it is made a child of")),
    Action("add_host", "Add a host (and groups) to the run's inventory.",
           "Runs once per play, on its first host (each loop item once); the host is targetable by later "
           "plays and in hostvars. A new host's name, or a connection/become/interpreter variable, that "
           "comes from host data (a registered result, a fact) is refused.",
           ("name (str) required (alias host, hostname): NAME or NAME:PORT (sets ansible_ssh_port)",
            "groups (str | list[str]) (alias group, groupname): groups to add it to (a string: comma-separated)",
            "NAME (any): any other key becomes a host variable (ansible_host, ansible_user...)")),
    Action("wait_for_connection", "Wait until the host accepts a connection and its agent answers.",
           "The agent is started and pinged until it answers; skipped in check mode. Result: elapsed.",
           ("timeout (int) default=600", "delay (int) default=0: seconds before the first try",
            "sleep (int) default=1: seconds between tries", "connect_timeout (int) default=5: per try")),
    Action("reboot", "Reboot the host and wait until it is back.",
           "The new boot is seen when boot_time_command's output changes, then test_command succeeds; the "
           "host's agents are dropped and started again. Check mode: changed, nothing rebooted. Refused "
           "on a local connection. Result: rebooted, elapsed.",
           ("reboot_timeout (int) default=600", "pre_reboot_delay, post_reboot_delay (int) default=0",
            "msg (str) default='Reboot initiated by Ansible'", "test_command (str) default='whoami'",
            "reboot_command (str) default='shutdown -r 0 \"MSG\"' (its program looked for in search_paths)",
            "boot_time_command (str) default='cat /proc/sys/kernel/random/boot_id'",
            "search_paths (list[str]), connect_timeout (int)")),
    Action("pause", "Wait some time, or for the user's answer at the terminal.",
           "Runs once per play, on the first host (as Ansible's pause): every host waits. Without a "
           "terminal a prompt without a duration goes on at once with Ansible's warning. Ctrl-C ends the "
           "run as any interrupt. Registers start, stop, delta, stdout, user_input, echo.",
           ("seconds (int) / minutes (int): how long to wait (under 1 second waits 1)",
            "prompt (str): the question asked at the terminal (its answer is user_input)",
            "echo (bool) default=true: show what is typed")),
    Action("raw", "Run a command line through the connection, without Python on the host.",
           "The text goes to the host's transport as is (used to install python3). Always changed; "
           "a non-zero rc fails it; skipped in check mode; become wraps it in sudo -n.",
           ("free form (str) required: the command line",
            "executable (str): run it as EXECUTABLE -c 'TEXT'")),
    Action("script", "Copy a local script to the host, run it there, remove it.",
           "The script is found as copy's src (role files/, the playbook's folder); its arguments follow its "
           "name. Always changed; a non-zero rc fails it; check mode skips it unless creates/removes "
           "decide.",
           ("free form or cmd (str) required: the script and its arguments",
            "creates, removes (str): skip the run when this path exists / is absent",
            "chdir (str): absolute directory to run in", "executable (str): the program that runs the script",
            "decrypt (bool) default=true: decrypt a vault-encrypted script")),
    Action("fetch", "Copy a file of the host to the controller.",
           "Written to dest/HOST/SRC (flat: to dest itself) when its SHA-1 differs; check mode writes "
           "nothing; a path from host data that leaves dest is refused.",
           ("src (str) required: the file on the host", "dest (str) required: the controller directory (or file)",
            "flat (bool) default=false", "fail_on_missing (bool) default=true",
            "validate_checksum (bool) default=true")),
    Action("import_role", "Inline a role when the playbook is loaded.", "As Ansible's import_role.",
           ("name (str) required", "tasks_from, vars_from, defaults_from, handlers_from (str): other files "
            "of the role", "allow_duplicates (bool): run the role again when it already ran in this play")),
)}
