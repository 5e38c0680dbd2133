"""``fleet verify``: run each applied role's testinfra tests against the hosts it was applied to."""
