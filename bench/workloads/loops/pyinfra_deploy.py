"""The loops workload for pyinfra: playbook.yml's looped tasks as pyinfra operations.

Same files, contents and modes as the playbook produces (checked by
``python bench/check_state.py``), from the same templates. A looped Ansible task is one
pyinfra operation per item. Differences from the playbook, none of which changes the end
state: templates render with ``trim_blocks`` as Ansible's do; ``lineinfile`` with
``create: true, mode: "0644"`` is a ``files.file`` (create, mode) followed by one
``files.line`` per item; values are written as Ansible writes them into text (``str()`` of a
list or a dict).
"""

from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.operations import files

TEMPLATES = Path(__file__).resolve().parent / "templates"

item_count = 200
services = [f"svc{i}" for i in range(1, 41)]
settings = {"alpha": 1, "beta": "two", "gamma": [3, 4, 5], "delta": {"x": 1, "y": 2}}
root = host.data.root
context = {"item_count": item_count, "services": services, "peers": list(range(1, 101)), "settings": settings,
           "root": root, "inventory_hostname": host.name}


def template(name: str, src: str, dest: str, **extra):
    """``template:`` with mode 0644, rendered as Ansible renders it (trim_blocks)."""
    return files.template(name=name, src=str(TEMPLATES / src), dest=dest, mode="644",
                          jinja_env_kwargs={"trim_blocks": True}, **context, **extra)


for sub in ["items", "services", "conf", "lists"]:
    files.directory(name=f"directory {sub}", path=f"{root}/{sub}", mode="755")

for item in range(item_count):
    template(f"item file {item:03d}", "item.conf.j2", f"{root}/items/item-{item:03d}.conf", item=item)

for index, service in enumerate(services):
    files.put(name=f"service file {service}", src=StringIO(f"name={service}\nport={9000 + index}\n"),
              dest=f"{root}/services/{service}.env", mode="644")

template("a peer list with a large loop inside", "peers.j2", f"{root}/conf/peers.conf")
template("a service matrix with nested loops", "matrix.j2", f"{root}/conf/matrix.conf")
template("settings rendered from a dict loop", "settings.j2", f"{root}/conf/settings.ini")

settings_list = f"{root}/lists/settings.list"
files.file(name="settings list file", path=settings_list, mode="644")
for key, value in settings.items():
    files.line(name=f"setting {key}", path=settings_list, line=f"^{key}=.*$", replace=f"{key}={value}")

for item in range(0, item_count, 10):
    files.file(name=f"item file {item:03d} stays readable", path=f"{root}/items/item-{item:03d}.conf", mode="644")
