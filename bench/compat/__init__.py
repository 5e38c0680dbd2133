"""The compatibility harness behind ``bench/compat/run.py``: fleet against ansible-playbook.

Modules (one job each):

* :mod:`compat.corpus`   -- the corpus list (``corpus.toml``): items, their kind and Ansible
* :mod:`compat.sources`  -- the items' sources, downloaded outside the repository
* :mod:`compat.tools`    -- the ansible-playbook venvs (ansible-core 2.18, current ansible)
* :mod:`compat.twins`    -- two fresh lab hosts per item
* :mod:`compat.workspace` -- one item's playbook, inventories, ansible.cfg, roles path
* :mod:`compat.runs`     -- one apply of each tool and its per-task results
* :mod:`compat.snapshot` -- a host's final state (stdlib script run on the host) and its diff
* :mod:`compat.pairing`  -- Ansible's and fleet's task results paired, the verdict
* :mod:`compat.report`   -- the table, the summary line, RESULTS.md and JSON
* ``callback/compat_record.py`` -- the Ansible callback plugin that records task results
"""
