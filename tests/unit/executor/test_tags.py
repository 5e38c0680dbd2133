"""--tags / --skip-tags through real runs: always, never, role/block/play inheritance, includes."""

from __future__ import annotations

import pytest

from tests.unit.executor.conftest import Site

PLAYBOOK = """
- hosts: h1
  gather_facts: true
  tags: [play]
  roles:
    - role: tagged_role
      tags: [role]
  tasks:
    - shell: echo plain >> {{ root }}/ran
    - shell: echo conf >> {{ root }}/ran
      tags: [conf]
    - shell: echo always >> {{ root }}/ran
      tags: [always]
    - shell: echo never >> {{ root }}/ran
      tags: [never, debug]
    - block:
        - shell: echo inblock >> {{ root }}/ran
        - shell: echo inblock-conf >> {{ root }}/ran
          tags: [conf]
      tags: [blk]
    - include_tasks: inc.yml
      tags: [inc]
    - shell: echo facts-{{ ansible_facts.system }} >> {{ root }}/ran
      tags: [facts]
"""

ALL = ["role", "plain", "conf", "always", "inblock", "inblock-conf", "included", "included-tagged", "facts-Linux"]
CASES = [
    # (--tags, --skip-tags, what ran); untagged included tasks do not inherit the include's tags
    ((), (), ALL),
    (("conf",), (), ["conf", "always", "inblock-conf"]),
    (("blk",), (), ["always", "inblock", "inblock-conf"]),
    (("role",), (), ["role", "always"]),
    (("debug",), (), ["always", "never"]),
    (("never",), (), ["always", "never"]),
    (("inc",), (), ["always", "included-tagged"]),
    (("facts",), (), ["always", "facts-Linux"]),
    (("untagged",), (), ["always"]),
    (("play",), (), ALL + ["never"]),  # a 'never' task runs when one of its tags is asked for
    ((), ("conf",), [r for r in ALL if "conf" not in r]),
    ((), ("inc",), [r for r in ALL if "included" not in r]),
    ((), ("always",), [r for r in ALL if r not in ("always", "facts-Linux")]),  # facts were not gathered
    ((), ("play",), []),
    (("conf", "always"), ("always",), ["conf", "inblock-conf"]),
]


@pytest.mark.parametrize(("tags", "skip", "ran"), CASES)
def test_tag_selection(site: Site, tags: tuple[str, ...], skip: tuple[str, ...], ran: list[str]) -> None:
    site.write("roles/tagged_role/tasks/main.yml", "- shell: echo role >> {{ root }}/ran\n")
    site.write("inc.yml", """
        - shell: echo included >> {{ root }}/ran
        - shell: echo included-tagged >> {{ root }}/ran
          tags: [inc]
    """)
    site.run(PLAYBOOK, tags=frozenset(tags), skip_tags=frozenset(skip))
    got = site.read("h1", "ran").split() if site.exists("h1", "ran") else []
    assert sorted(got) == sorted(ran) and got == [r for r in _order() if r in ran]


def _order() -> list[str]:
    return ["role", "plain", "conf", "always", "never", "inblock", "inblock-conf", "included",
            "included-tagged", "facts-Linux"]
