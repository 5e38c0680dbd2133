"""Helpers for testing playbooks and fleet itself against real hosts (sshd on loopback, ...)."""
