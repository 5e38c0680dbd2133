"""Ways to show a RunReport: the terminal (rich) and the ``--json`` file."""
