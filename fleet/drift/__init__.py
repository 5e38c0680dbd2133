"""``fleet drift``: check a playbook against the hosts nightly and report what has drifted."""
