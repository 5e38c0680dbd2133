"""The baseline workload for pyinfra: playbook.yml's tasks as pyinfra operations.

Same directories, files, contents, modes and owners as the playbook produces (the harness
checks: ``python bench/check_state.py``), from the same templates and files. Run by
``pyinfra inventory.py pyinfra_deploy.py``; each host's ``root`` and ``bench_user`` come from
the inventory. Differences from the playbook, none of which changes the end state:

* Ansible templates render with ``trim_blocks``: so do these (``jinja_env_kwargs``).
* ``lineinfile``/``blockinfile`` with ``create: true, mode: "0644"`` are a ``files.file``
  (create, mode) followed by ``files.line``/``files.block``; ``insertafter: "^APP_PORT="`` is
  an append (the line after which it goes is the file's last line); block markers are
  Ansible's (``# {mark} ANSIBLE MANAGED BLOCK``).
* ``creates:`` guards are a File fact read before the operation is added.
* The handler is a ``server.shell`` at the end, run only if either template changed
  (``_if=any_changed(...)``), as Ansible runs notified handlers at the end of the play.
* The read-only tasks (``set_fact``, two ``stat`` + ``assert``, ``debug``) are plain Python:
  pyinfra has no operation that reads a host at execution time without counting as a change.
"""

import json
from io import StringIO
from pathlib import Path

from pyinfra import host
from pyinfra.facts.files import File
from pyinfra.operations import files, server
from pyinfra.operations.util import any_changed

HERE = Path(__file__).resolve().parent
TEMPLATES, FILES = HERE / "templates", HERE / "files"

app = {
    "app_name": "shop",
    "app_port": 8080,
    "app_debug": False,
    "app_workers": 4,
    "app_version": "2.4.1",
    "app_features": ["search", "cart", "reviews", "recommendations"],
    "app_disabled_features": ["recommendations"],
    "app_upstreams": [
        {"name": "db", "host": "10.0.0.10", "port": 5432},
        {"name": "cache", "host": "10.0.0.11", "port": 6379},
        {"name": "queue", "host": "10.0.0.12", "port": 5672},
    ],
    "app_env": {"APP_ENV": "production", "APP_LOG_LEVEL": "info", "APP_TIMEZONE": "UTC"},
    "app_limits": {"nofile": 65536, "nproc": 4096},
}
root, user = host.data.root, host.data.bench_user
context = {**app, "root": root, "bench_user": user, "inventory_hostname": host.name}


def template(name: str, src: str, dest: str, mode: str, **extra):
    """``template:`` as Ansible renders it (trim_blocks), with the play's variables.

    ``extra`` holds the operation's own arguments (``user``) and further template variables
    (``item``).
    """
    return files.template(name=name, src=str(TEMPLATES / src), dest=dest, mode=mode,
                          jinja_env_kwargs={"trim_blocks": True}, **context, **extra)


for sub in ["etc", "etc/conf.d", "var", "var/lib", "bin", "share"]:
    files.directory(name=f"base directory {sub}", path=f"{root}/{sub}", mode="755", user=user)
files.directory(name="private directory", path=f"{root}/var/lib/secrets", mode="700")

main_conf = template("main configuration", "app.conf.j2", f"{root}/etc/app.conf", "640", user=user)
logging_conf = template("logging configuration", "logging.conf.j2", f"{root}/etc/logging.conf", "644")
template("service unit", "app.service.j2", f"{root}/etc/app.service", "644")
template("environment file", "env.j2", f"{root}/etc/app.env", "600")
template("virtual host", "vhost.conf.j2", f"{root}/etc/vhost.conf", "644")
for feature in app["app_features"]:
    if feature not in app["app_disabled_features"]:
        template(f"config snippet {feature}", "feature.conf.j2", f"{root}/etc/conf.d/{feature}.conf", "644",
                 item=feature)

files.put(name="message of the day", src=str(FILES / "motd.txt"), dest=f"{root}/etc/motd", mode="644")
files.put(name="health check script", src=str(FILES / "healthcheck.sh"), dest=f"{root}/bin/healthcheck",
          mode="755")
settings = {"workers": app["app_workers"], "debug": app["app_debug"], "features": app["app_features"]}
files.put(name="settings as JSON", dest=f"{root}/etc/settings.json", mode="644",
          src=StringIO(json.dumps(settings, indent=4, sort_keys=True, separators=(",", ": ")) + "\n"))
files.put(name="version file", src=StringIO(f"{app['app_name']} {app['app_version']}\n"),
          dest=f"{root}/share/VERSION", mode="644")

local_env = f"{root}/etc/local.env"
files.file(name="local overrides file", path=local_env, mode="644")
files.line(name="listen port in the local overrides", path=local_env, line="^APP_PORT=.*$",
           replace=f"APP_PORT={app['app_port']}")
files.line(name="worker count after the port", path=local_env, line="^APP_WORKERS=.*$",
           replace=f"APP_WORKERS={app['app_workers']}")
files.line(name="no debug flag in the local overrides", path=local_env, line="^APP_DEBUG=.*$", present=False)

limits = f"{root}/etc/limits.conf"
files.file(name="resource limits file", path=limits, mode="644")
for key, value in app["app_limits"].items():
    files.line(name=f"resource limit {key}", path=limits, line=f"^{key} .*$", replace=f"{key} {value}")

hosts_extra = f"{root}/etc/hosts.extra"
files.file(name="static host entries file", path=hosts_extra, mode="644")
files.block(name="static host entries", path=hosts_extra, marker="# {mark} ANSIBLE MANAGED BLOCK",
            content="\n".join(f"{u['host']} {u['name']}" for u in app["app_upstreams"]))
maintenance = f"{root}/etc/maintenance"
files.file(name="maintenance file", path=maintenance, mode="644")
files.block(name="cron-style maintenance block", path=maintenance, marker=f"# {{mark}} {app['app_name']} maintenance",
            content=f"0 3 * * * {root}/bin/healthcheck --deep\n*/5 * * * * {root}/bin/healthcheck")

if not host.get_fact(File, path=f"{root}/var/lib/initialised"):
    server.shell(name="initialise the data directory once", commands=[f"touch {root}/var/lib/initialised"])
if not host.get_fact(File, path=f"{root}/var/lib/assets.idx"):
    server.shell(name="build the asset index once", commands=[f"ls {root}/etc > {root}/var/lib/assets.idx"])

files.link(name="current config link", path=f"{root}/etc/current.conf", target=f"{root}/etc/app.conf")
files.directory(name="log directory, group-readable only", path=f"{root}/var/log", mode="750")
files.file(name="no stale pid file", path=f"{root}/var/app.pid", present=False)
if app["app_debug"]:
    files.directory(name="debug directory only in debug mode", path=f"{root}/var/debug", mode="755")

# set_fact, stat + assert, debug: read-only, evaluated here (see the module docstring).
app_url = f"http://127.0.0.1:{app['app_port']}/"
app_enabled = [f for f in app["app_features"] if f not in app["app_disabled_features"]]
assert len(app_enabled) == 3, app_enabled

server.shell(name="restart app (handler)", commands=[f"echo restarted >> {root}/var/log/restarts"],
             _if=any_changed(main_conf, logging_conf))
