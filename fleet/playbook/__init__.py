"""Plays, roles, blocks and tasks: loaded from Ansible-format YAML into typed models."""
