"""OpenSSH options from ansible_ssh_*_args: implemented, ignored with a reason, or refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.connection import ConnectionDefaults, env_accepts_new_host_keys, ssh_options
from fleet.errors import InputError
from fleet.transport.sshargs import IGNORED, IMPLEMENTED, OFF_ONLY, SSHArgsError, parse_ssh_args


@pytest.mark.parametrize(("text", "expected"), [
    ("-o Port=2222", {"Port": 2222}),
    ("-oPort=2222", {"Port": 2222}),
    ("-o 'Port 2222'", {"Port": 2222}),
    ("-o 'port = 2222'", {"Port": 2222}),
    ("-p2222 -o Port=1", {"Port": 2222}),  # the first value wins, as in ssh
    ("-l deploy -o User=other", {"User": "deploy"}),
    ("-i a -o IdentityFile=b -ic", {"IdentityFile": ["a", "b", "c"]}),  # identities accumulate
    ("-J bastion", {"ProxyJump": "bastion"}),
    ("-C4", {"Compression": True, "AddressFamily": "inet"}),
    ("-6 -A", {"AddressFamily": "inet6", "ForwardAgent": True}),
    ("-a", {"ForwardAgent": False}),
    ("-o ForwardAgent=/run/agent.sock", {"ForwardAgent": "/run/agent.sock"}),
    ("-o ProxyCommand='ssh -W %h:%p -q gw 2>/dev/null'", {"ProxyCommand": "ssh -W %h:%p -q gw 2>/dev/null"}),
    ('-o ProxyCommand="nc %h %p"', {"ProxyCommand": "nc %h %p"}),
    ("-o 'UserKnownHostsFile /a /b'", {"UserKnownHostsFile": ["/a", "/b"]}),
    ("-o ConnectTimeout=1m30s -o ServerAliveInterval=5", {"ConnectTimeout": 90, "ServerAliveInterval": 5}),
    ("-o StrictHostKeyChecking=No", {"StrictHostKeyChecking": "no"}),
    ("-o ControlMaster=auto -o ControlPersist=60s -S /tmp/x -M -q -vvv -T -x", {}),
    ("-o RequestTTY=no -o ForwardX11=no -o BatchMode=yes -o LogLevel=ERROR", {}),
    ("-K", {"GSSAPIAuthentication": True, "GSSAPIDelegateCredentials": True}),
    ("-o RekeyLimit='1G 1h' -o SetEnv='A=1 B=2' -o SendEnv=LANG -o SendEnv=LC_*",
     {"RekeyLimit": ["1G", "1h"], "SetEnv": ["A=1", "B=2"], "SendEnv": ["LANG", "LC_*"]}),
])
def test_implemented_and_ignored_options(text: str, expected: dict[str, object]) -> None:
    assert parse_ssh_args(text).options == expected


def test_config_file_flag() -> None:
    found = parse_ssh_args("-F ~/.ssh/bastion.conf -F other")
    assert found.config_file == "~/.ssh/bastion.conf" and found.options == {}


@pytest.mark.parametrize(("text", "message"), [
    ("-L 8080:localhost:80", "ssh flag -L is not supported by fleet: fleet opens no forwardings"),
    ("-D1080", "ssh flag -D is not supported by fleet"),
    ("-R 80:x:80", "ssh flag -R is not supported by fleet"),
    ("-W host:22", "ssh flag -W is not supported by fleet"),
    ("-tt", "ssh flag -t is not supported by fleet: the agent needs a channel without a terminal"),
    ("-X", "ssh flag -X is not supported by fleet: fleet does not forward X11"),
    ("-N", "ssh flag -N is not supported by fleet"),
    ("-f", "ssh flag -f is not supported by fleet"),
    ("-O exit", "ssh flag -O is not supported by fleet"),
    ("-I /usr/lib/pkcs11.so", "ssh flag -I is not supported by fleet: PKCS#11 keys are not supported"),
    ("-Z", "unknown ssh flag -Z"),
    ("-p", "ssh flag -p needs an argument"),
    ("host.example.com", "unexpected argument 'host.example.com'"),
    ("-- uptime", "unexpected argument '--'"),
    ("-o LocalForward='8080 localhost:80'", "ssh option 'LocalForward' is not supported by fleet"),
    ("-o DynamicForward=1080", "ssh option 'DynamicForward' is not supported by fleet"),
    ("-o RemoteCommand=id", "ssh option 'RemoteCommand' is not supported by fleet"),
    ("-o KnownHostsCommand=x", "ssh option 'KnownHostsCommand' is not supported by fleet"),
    ("-o NoHostAuthenticationForLocalhost=yes", "ssh option 'NoHostAuthenticationForLocalhost' is not supported"),
    ("-o VerifyHostKeyDNS=yes", "ssh option 'VerifyHostKeyDNS' is not supported by fleet"),
    ("-o PKCS11Provider=/x.so", "ssh option 'PKCS11Provider' is not supported by fleet"),
    ("-o PorxyCommand=x", "ssh option 'PorxyCommand' is not supported by fleet (did you mean ProxyCommand?)"),
    ("-o Host=x", "ssh option 'Host' is not supported by fleet (config-file syntax: put it in a file and pass -F FILE)"),
    ("-o ForwardX11=yes", "ssh option ForwardX11=yes is not supported by fleet: fleet does not forward X11"),
    ("-o RequestTTY=force", "ssh option RequestTTY=force is not supported by fleet"),
    ("-o HostbasedAuthentication=yes", "ssh option HostbasedAuthentication=yes is not supported by fleet"),
    ("-o Port=0", "ssh option Port: a port (1-65535) expected, got '0'"),
    ("-o Compression=maybe", "ssh option Compression: yes or no expected, got 'maybe'"),
    ("-o StrictHostKeyChecking=sometimes", "ssh option StrictHostKeyChecking: one of yes, no, off, accept-new"),
    ("-o ConnectTimeout=soon", "ssh option ConnectTimeout: a time in seconds expected, got 'soon'"),
    ("-o ProxyCommand='nc %x %p'", "ssh option ProxyCommand: unknown token %x"),
    ("-o Port", "ssh option Port needs a value"),
    ("-o Port:22", "ssh flag -o needs Option=value, got 'Port:22'"),
    ("-o 'UserKnownHostsFile=\"/unclosed'", "ssh option UserKnownHostsFile: cannot split"),
    ("-o 'Port=22", "cannot split"),
])
def test_refused_by_name(text: str, message: str) -> None:
    with pytest.raises(SSHArgsError) as caught:
        parse_ssh_args(text)
    assert message in str(caught.value)


def test_every_option_is_in_one_table_only() -> None:
    assert not set(IMPLEMENTED) & set(IGNORED)
    assert not set(IMPLEMENTED) & set(OFF_ONLY)
    assert not set(IGNORED) & set(OFF_ONLY)


def test_ssh_options_precedence_variables_then_args_then_command_line(tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    config.write_text("")
    hostvars = {
        "ansible_ssh_args": "-o Port=1111 -o ConnectTimeout=7",
        "ansible_ssh_common_args": f"-o Port=2222 -l from-args -i /args/key -o HostName=10.1.1.1 -F {config}",
        "ansible_ssh_extra_args": "-o Port=3333 -o UserKnownHostsFile=/kh -o Ciphers=aes256-ctr",
    }
    options = ssh_options("web1", hostvars, ConnectionDefaults(user="cli", private_key="/cli/key", known_hosts="/cli/kh"))
    assert options.port == 1111  # ansible_ssh_args first, then common, then extra: the first wins
    assert (options.user, options.host, options.connect_timeout) == ("from-args", "10.1.1.1", 7.0)
    assert options.key_files == ["/cli/key", "/args/key"]
    assert options.known_hosts == ["/kh"] and options.config_file == str(config)
    assert options.ssh_config == {"Ciphers": "aes256-ctr"}
    mine = ssh_options("web1", dict(hostvars, ansible_port=22, ansible_user="me", ansible_host="h",
                                    ansible_ssh_private_key_file="/mine", ansible_timeout=3), ConnectionDefaults())
    assert (mine.port, mine.user, mine.host, mine.key_files[0], mine.connect_timeout) == (22, "me", "h", "/mine", 3.0)


@pytest.mark.parametrize(("variables", "message"), [
    ({"ansible_ssh_common_args": "-L 1:x:1"}, "host web1: ansible_ssh_common_args: ssh flag -L is not supported"),
    ({"ansible_ssh_extra_args": "-o Frobnicate=1"}, "host web1: ansible_ssh_extra_args: ssh option 'Frobnicate'"),
    ({"ansible_port": "http"}, "host web1: ansible_port: a number from 1 to 65535 expected, got 'http'"),
    ({"ansible_port": 70000}, "host web1: ansible_port: a number from 1 to 65535 expected, got 70000"),
    ({"ansible_timeout": "long"}, "host web1: ansible_timeout: a number from 0 to 86400 expected"),
])
def test_bad_connection_variables_name_the_host_and_variable(variables: dict[str, object], message: str) -> None:
    with pytest.raises(InputError) as caught:
        ssh_options("web1", variables, ConnectionDefaults())
    assert message in str(caught.value)


@pytest.mark.parametrize(("value", "accepts"), [
    (None, False), ("", False), ("False", True), ("no", True), ("0", True), ("True", False), ("yes", False),
])
def test_ansible_host_key_checking_environment(value: str | None, accepts: bool) -> None:
    environ = {} if value is None else {"ANSIBLE_HOST_KEY_CHECKING": value}
    assert env_accepts_new_host_keys(environ) is accepts


def test_ansible_host_key_checking_environment_that_is_not_a_boolean() -> None:
    with pytest.raises(InputError, match="environment variable ANSIBLE_HOST_KEY_CHECKING: true or false expected"):
        env_accepts_new_host_keys({"ANSIBLE_HOST_KEY_CHECKING": "sometimes"})


def test_a_missing_ssh_config_file_is_named() -> None:
    with pytest.raises(InputError, match="host web1: ansible_ssh_common_args: ssh config file -F /nonexistent/cfg does"):
        ssh_options("web1", {"ansible_ssh_common_args": "-F /nonexistent/cfg"}, ConnectionDefaults())
    assert ssh_options("web1", {"ansible_ssh_common_args": "-F none"}, ConnectionDefaults()).config_file == "none"
