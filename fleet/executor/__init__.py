"""Runs a loaded playbook against an inventory: plays, hosts, tasks, handlers, results."""
