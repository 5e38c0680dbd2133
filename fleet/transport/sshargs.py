"""OpenSSH command-line options as Ansible's ``ansible_ssh_args`` / ``ansible_ssh_common_args`` /
``ansible_ssh_extra_args`` hold them: parsed, checked and normalised, or refused by name.

Every ``-o Option=value`` and every ``ssh`` flag is either implemented (see
:mod:`fleet.transport.sshconnect` for how each maps onto asyncssh), accepted and ignored
because it cannot matter to fleet (``ControlPersist``: fleet keeps its own connections), or
refused with the reason, so an inventory that needs a bastion never silently connects
directly. As in OpenSSH, the first value given for an option wins (list options such as
``IdentityFile`` accumulate). Importing this module does not import asyncssh.
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass, field
from typing import Any


class SSHArgsError(ValueError):
    """An ssh option or flag fleet does not implement, or a bad value for one."""


BOOL_WORDS = {"yes": True, "true": True, "no": False, "false": False}
PERCENT_TOKENS = frozenset("%hnpr")  # what OpenSSH expands in ProxyCommand and ProxyJump

# Implemented options: lower-case name -> (canonical name, kind). Kinds: "bool"; "int" (>= 0);
# "time" (seconds, OpenSSH's 1m30s form too); "port" (1-65535); "str" (one word); "agent"
# (yes/no or a socket); "line" (the rest of the line); "words" (a list, first -o wins);
# "accumulate" (a list that every -o extends); "choice:a|b" (one of these words).
IMPLEMENTED: dict[str, tuple[str, str]] = {name.lower(): (name, kind) for name, kind in (
    ("AddressFamily", "choice:any|inet|inet6"),
    ("BindAddress", "str"),
    ("CertificateFile", "accumulate"),
    ("ChallengeResponseAuthentication", "bool"),
    ("Ciphers", "str"),
    ("Compression", "bool"),
    ("ConnectTimeout", "time"),
    ("ConnectionAttempts", "int"),
    ("ForwardAgent", "agent"),
    ("GlobalKnownHostsFile", "words"),
    ("GSSAPIAuthentication", "bool"),
    ("GSSAPIDelegateCredentials", "bool"),
    ("GSSAPIKeyExchange", "bool"),
    ("HashKnownHosts", "bool"),
    ("HostKeyAlgorithms", "str"),
    ("HostKeyAlias", "str"),
    ("HostName", "str"),
    ("IdentitiesOnly", "bool"),
    ("IdentityAgent", "str"),
    ("IdentityFile", "accumulate"),
    ("KbdInteractiveAuthentication", "bool"),
    ("KexAlgorithms", "str"),
    ("MACs", "str"),
    ("PasswordAuthentication", "bool"),
    ("Port", "port"),
    ("PreferredAuthentications", "str"),
    ("ProxyCommand", "line"),
    ("ProxyJump", "str"),
    ("PubkeyAuthentication", "bool"),
    ("RekeyLimit", "words"),
    ("SendEnv", "accumulate"),
    ("ServerAliveCountMax", "int"),
    ("ServerAliveInterval", "time"),
    ("SetEnv", "words"),
    ("StrictHostKeyChecking", "choice:yes|no|off|accept-new|ask|true|false"),
    ("TCPKeepAlive", "bool"),
    ("User", "str"),
    ("UserKnownHostsFile", "words"),
)}

# Accepted and ignored: nothing they do applies to fleet's connections. Name -> why.
IGNORED: dict[str, str] = {name.lower(): why for name, why in (
    ("AddKeysToAgent", "fleet never adds keys to an agent"),
    ("BatchMode", "fleet never prompts"),
    ("CheckHostIP", "host keys are looked up by name and address already"),
    ("ClearAllForwardings", "fleet opens no forwardings"),
    ("ControlMaster", "fleet keeps its own connections (--persist)"),
    ("ControlPath", "fleet keeps its own connections (--persist)"),
    ("ControlPersist", "fleet keeps its own connections (--persist)"),
    ("EnableEscapeCommandline", "fleet uses no terminal"),
    ("EscapeChar", "fleet uses no terminal"),
    ("ExitOnForwardFailure", "fleet opens no forwardings"),
    ("ForwardX11Timeout", "X11 forwarding is off"),
    ("GatewayPorts", "fleet opens no forwardings"),
    ("IPQoS", "a packet marking"),
    ("LogLevel", "output settings"),
    ("NumberOfPasswordPrompts", "fleet never prompts"),
    ("ObscureKeystrokeTiming", "fleet uses no terminal"),
    ("Protocol", "SSH 2 is the only protocol"),
    ("SyslogFacility", "output settings"),
    ("UpdateHostKeys", "fleet never rewrites recorded host keys"),
    ("VisualHostKey", "output settings"),
    ("XAuthLocation", "X11 forwarding is off"),
)}

# Accepted only with these values (the ones that mean "off" for fleet).
OFF_ONLY: dict[str, tuple[str, frozenset[str], str]] = {name.lower(): (name, frozenset(values), why) for
                                                         name, values, why in (
    ("ForwardX11", ("no", "false"), "fleet does not forward X11"),
    ("ForwardX11Trusted", ("no", "false"), "fleet does not forward X11"),
    ("HostbasedAuthentication", ("no", "false"), "host-based authentication is not supported"),
    ("RequestTTY", ("no", "false", "auto"), "the agent needs a channel without a terminal"),
    ("PermitLocalCommand", ("no", "false"), "fleet runs no local command"),
    ("StdinNull", ("no", "false"), "the agent reads its standard input"),
    ("ForkAfterAuthentication", ("no", "false"), "fleet keeps its connections in the foreground"),
    ("Tunnel", ("no", "false"), "fleet opens no tun device"),
)}

FLAG_OPTIONS: dict[str, list[tuple[str, str]]] = {  # flags without an argument -> -o settings
    "4": [("AddressFamily", "inet")], "6": [("AddressFamily", "inet6")],
    "A": [("ForwardAgent", "yes")], "a": [("ForwardAgent", "no")],
    "C": [("Compression", "yes")],
    "K": [("GSSAPIAuthentication", "yes"), ("GSSAPIDelegateCredentials", "yes")],
    "k": [("GSSAPIDelegateCredentials", "no")],
    "M": [("ControlMaster", "yes")], "T": [("RequestTTY", "no")], "x": [("ForwardX11", "no")],
    "q": [], "v": [], "n": [], "y": [],  # quiet, verbose, stdin from /dev/null, syslog: no effect
}
ARG_OPTIONS: dict[str, str] = {  # flags with an argument -> the -o option they set
    "b": "BindAddress", "c": "Ciphers", "i": "IdentityFile", "J": "ProxyJump", "l": "User",
    "m": "MACs", "p": "Port", "S": "ControlPath", "E": "LogLevel", "e": "EscapeChar",
}
REFUSED_FLAGS: dict[str, str] = {
    "f": "fleet keeps its connections in the foreground",
    "G": "it prints the configuration instead of connecting",
    "g": "fleet opens no forwardings",
    "N": "the agent needs a remote command",
    "s": "the agent runs as a command, not a subsystem",
    "t": "the agent needs a channel without a terminal (RequestTTY)",
    "V": "it prints the version instead of connecting",
    "X": "fleet does not forward X11", "Y": "fleet does not forward X11",
    "B": "BindInterface is not supported (use -b / BindAddress)",
    "D": "fleet opens no forwardings", "L": "fleet opens no forwardings", "R": "fleet opens no forwardings",
    "I": "PKCS#11 keys are not supported",
    "O": "fleet keeps its own connections (--persist)",
    "P": "Tag is not supported",
    "Q": "it queries algorithms instead of connecting",
    "W": "fleet runs the agent on the host, not a stdio forwarding",
    "w": "fleet opens no tun device",
}
FLAGS_WITH_ARGUMENT = set(ARG_OPTIONS) | set("BDFILoOPQRWw")
OPTION_TEXT = re.compile(r"\s*([A-Za-z0-9]+)(?:\s*=\s*|\s+|$)(.*)$", re.S)
TIME_TEXT = re.compile(r"(?:\d+[sSmMhHdDwW]?)+$")
TIME_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass
class SSHArgs:
    """What a set of ssh arguments says: ``options`` (canonical name -> normalised value; first
    given wins, list options accumulate) and ``config_file`` (``-F``)."""

    options: dict[str, Any] = field(default_factory=dict)
    config_file: str | None = None

    def get(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


def parse_ssh_args(text: str, into: SSHArgs | None = None) -> SSHArgs:
    """Parse one variable's ssh arguments, adding to ``into`` (earlier values win)."""
    found = into if into is not None else SSHArgs()
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise SSHArgsError(f"cannot split {text!r}: {exc}") from None
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if not token.startswith("-") or token in ("-", "--"):
            raise SSHArgsError(f"unexpected argument {token!r}: only ssh options belong here "
                               f"(the host, user and command come from the inventory)")
        position = 1
        while position < len(token):
            flag = token[position]
            position += 1
            if flag not in FLAGS_WITH_ARGUMENT:
                _flag(found, flag)
                continue
            if position < len(token):
                value = token[position:]
            elif index < len(tokens):
                value, index = tokens[index], index + 1
            else:
                raise SSHArgsError(f"ssh flag -{flag} needs an argument")
            _flag_with_argument(found, flag, value)
            break
    return found


def _flag(found: SSHArgs, flag: str) -> None:
    if flag in REFUSED_FLAGS:
        raise SSHArgsError(f"ssh flag -{flag} is not supported by fleet: {REFUSED_FLAGS[flag]}")
    if flag not in FLAG_OPTIONS:
        raise SSHArgsError(f"unknown ssh flag -{flag}")
    for name, value in FLAG_OPTIONS[flag]:
        set_option(found, name, value)


def _flag_with_argument(found: SSHArgs, flag: str, value: str) -> None:
    if flag == "o":
        match = OPTION_TEXT.match(value)
        if match is None:
            raise SSHArgsError(f"ssh flag -o needs Option=value, got {value!r}")
        set_option(found, match.group(1), match.group(2))
    elif flag == "F":
        if found.config_file is None:
            found.config_file = value
    elif flag in REFUSED_FLAGS:
        raise SSHArgsError(f"ssh flag -{flag} is not supported by fleet: {REFUSED_FLAGS[flag]}")
    else:
        set_option(found, ARG_OPTIONS[flag], value)


def set_option(found: SSHArgs, name: str, value: str) -> None:
    """Record ``Name value`` (checked and normalised) unless an earlier value wins."""
    key = name.lower()
    if key in IGNORED:
        return
    if key in OFF_ONLY:
        canonical, allowed, why = OFF_ONLY[key]
        if value.strip().lower() not in allowed:
            raise SSHArgsError(f"ssh option {canonical}={value} is not supported by fleet: {why}")
        return
    if key not in IMPLEMENTED:
        raise SSHArgsError(f"ssh option {name!r} is not supported by fleet ({_hint(key)})")
    canonical, kind = IMPLEMENTED[key]
    if not value.strip():
        raise SSHArgsError(f"ssh option {canonical} needs a value")
    normalised = _normalise(canonical, kind, value.strip())
    if kind == "accumulate":
        found.options.setdefault(canonical, []).extend(normalised)
    elif canonical not in found.options:
        found.options[canonical] = normalised


def _normalise(name: str, kind: str, value: str) -> Any:
    words = _words(name, value) if kind != "line" else [value]
    if kind in ("words", "accumulate"):
        return words
    if kind == "line":
        if name == "ProxyCommand":
            check_percent_tokens(name, value)
        return value
    if len(words) != 1:
        raise SSHArgsError(f"ssh option {name}: one value expected, got {value!r}")
    word = words[0]
    if kind == "bool":
        if word.lower() not in BOOL_WORDS:
            raise SSHArgsError(f"ssh option {name}: yes or no expected, got {word!r}")
        return BOOL_WORDS[word.lower()]
    if kind == "time":
        if not TIME_TEXT.match(word):
            raise SSHArgsError(f"ssh option {name}: a time in seconds expected, got {word!r}")
        return sum(int(n) * TIME_UNITS[u.lower()] for n, u in re.findall(r"(\d+)([sSmMhHdDwW]?)", word))
    if kind == "agent":
        return BOOL_WORDS.get(word.lower(), word)
    if kind in ("int", "port"):
        if not word.isdigit() or (kind == "port" and not 1 <= int(word) <= 65535):
            wanted = "a port (1-65535)" if kind == "port" else "a whole number"
            raise SSHArgsError(f"ssh option {name}: {wanted} expected, got {word!r}")
        return int(word)
    if kind.startswith("choice:"):
        choices = kind.removeprefix("choice:").split("|")
        if word.lower() not in choices:
            raise SSHArgsError(f"ssh option {name}: one of {', '.join(choices)} expected, got {word!r}")
        return word.lower()
    if name == "ProxyJump":
        check_percent_tokens(name, word)
    return word


def _words(name: str, value: str) -> list[str]:
    try:
        return shlex.split(value)
    except ValueError as exc:
        raise SSHArgsError(f"ssh option {name}: cannot split {value!r}: {exc}") from None


def check_percent_tokens(name: str, value: str) -> None:
    """SSHArgsError for a ``%x`` OpenSSH would not expand in ``name`` (it refuses those too)."""
    for match in re.finditer(r"%(.?)", value):
        if match.group(1) not in PERCENT_TOKENS:
            raise SSHArgsError(f"ssh option {name}: unknown token %{match.group(1)} "
                               f"(known: %h host, %p port, %r user, %n name, %% a percent sign)")


def expand_percent(value: str, tokens: dict[str, str]) -> str:
    """``value`` with OpenSSH's ``%h %p %r %n %%`` replaced."""
    return re.sub(r"%(.)", lambda m: "%" if m.group(1) == "%" else tokens[m.group(1)], value)


def _hint(key: str) -> str:
    known = {name: canonical for name, (canonical, _) in IMPLEMENTED.items()}
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.8)
    if close:
        return f"did you mean {known[close[0]]}?"
    if key in ("host", "match", "include"):
        return "config-file syntax: put it in a file and pass -F FILE"
    if key.endswith("forward") or key in ("localcommand", "remotecommand", "sessiontype", "permitremoteopen"):
        return "fleet opens no forwardings and runs no other command"
    return "fleet refuses options it does not implement rather than ignore them"
