"""The stdlib-only agent that runs on target hosts.

Every module in this package must import nothing outside the standard library (and each
other, as ``fleet.agent.NAME``) and run on Python >= 3.8: the controller ships their
source over the transport and the bootstrap registers them under the same names there.
"""

# Order matters: the bootstrap executes them in this order on the target.
AGENT_MODULES = ("wire", "errors", "commands", "hostenv", "modes", "dirfd", "safepath", "hostio", "textfile",
                 "dpkg", "systemctl", "accounts", "includes", "facts_net", "facts_hw", "facts_sys", "contract",
                 "guard", "runner", "inbox", "hoststate", "hostrun", "asyncjob", "main")
