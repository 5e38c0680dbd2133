"""Configuration fleet reads the way Ansible does: ansible.cfg and ``ANSIBLE_*`` variables.

    load_config(environ=None, cwd=None) -> AnsibleConfig   # the file Ansible would read, parsed
    AnsibleConfig.get(name) / origin(name) / is_set(name)  # env > file > Ansible's default
    find_config(environ, cwd) -> (path | None, warnings)
"""

from fleet.config.ansiblecfg import SETTINGS, AnsibleConfig, find_config, load_config

__all__ = ["SETTINGS", "AnsibleConfig", "find_config", "load_config"]
