#!/usr/bin/python
# A new-style module (it imports basic) that prints what the test asks for instead of JSON.
from __future__ import annotations

import json
import sys
import time

from ansible.module_utils.basic import AnsibleModule


def main() -> None:
    module = AnsibleModule(argument_spec={"mode": {"type": "str", "required": True},
                                          "secret": {"type": "str", "no_log": True}},
                           supports_check_mode=True)
    mode = module.params["mode"]
    if mode == "text":
        print("this is not JSON")
        sys.exit(0)
    if mode == "junk":
        print("a banner before")
        print(json.dumps({"changed": False, "said": "hello"}))
        print("a banner after")
        sys.exit(0)
    if mode == "sleep":
        time.sleep(60)
    if mode == "rc":
        print(json.dumps({"rc": 3, "stdout": "one\ntwo"}))
        sys.exit(0)
    if mode == "silent":
        sys.exit(0)
    if mode == "crash":
        raise RuntimeError("module crashed on purpose")
    module.exit_json(changed=True, secret_was=module.params["secret"], env=dict(FLEET_TEST=__import__("os").environ.get("FLEET_TEST")))


if __name__ == "__main__":
    main()
