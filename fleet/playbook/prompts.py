"""``vars_prompt``: play variables asked for when the run starts, as Ansible asks for them.

A variable given with ``-e`` is not asked for (Ansible skips its prompt). Otherwise fleet asks
on the terminal (``private`` input hidden, the default: ``true``; ``confirm`` asks twice; an
empty answer takes ``default``). With no terminal (a pipeline, a nightly job) nothing is
asked: ``default`` is the value, and a prompt without one is an error naming the play and the
``-e`` that answers it, before anything connects. ``encrypt`` hashes the answer
(``password_hash``'s algorithms, ``salt``/``salt_size``). Answers are data: never rendered as
templates (Ansible's ``unsafe: true``), and a ``private`` answer is a secret, redacted from
all output like a vault value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fleet.errors import InputError, Location
from fleet.playbook.keywords import as_bool, as_list, as_mapping, as_str, where
from fleet.playbook.models import Play
from fleet.templating import wrap
from fleet.vars import Layer

PROMPT_KEYS = frozenset({"name", "prompt", "default", "private", "confirm", "encrypt", "salt", "salt_size",
                         "unsafe"})


@dataclass(frozen=True)
class Prompt:
    """One ``vars_prompt`` entry."""

    name: str
    prompt: str
    location: Location
    default: Any = None
    private: bool = True
    confirm: bool = False
    encrypt: str | None = None
    salt: str | None = None
    salt_size: int | None = None


def parse_prompts(value: Any, loc: Location) -> tuple[Prompt, ...]:
    """The play's ``vars_prompt`` list; InputError naming file:line for a malformed entry."""
    prompts = []
    for raw in as_list(value, "vars_prompt", loc):
        entry_loc = where(raw, loc) or loc
        entry = as_mapping(raw, "a vars_prompt entry", entry_loc)
        unknown = sorted(set(entry) - PROMPT_KEYS)
        if unknown:
            raise InputError(f"vars_prompt: unknown key {unknown[0]!r} (known: {', '.join(sorted(PROMPT_KEYS))})",
                             entry_loc)
        if not entry.get("name"):
            raise InputError("vars_prompt: each entry needs a 'name'", entry_loc)
        name = as_str(entry["name"], "vars_prompt name", entry_loc)
        if not name.isidentifier():
            raise InputError(f"vars_prompt: {name!r} is not a valid variable name", entry_loc)
        salt_size = entry.get("salt_size")
        if salt_size is not None and (isinstance(salt_size, bool) or not isinstance(salt_size, int)):
            raise InputError(f"vars_prompt {name!r}: salt_size must be a whole number", entry_loc)
        prompts.append(Prompt(
            name=name, prompt=str(entry.get("prompt") or name), location=entry_loc, default=entry.get("default"),
            private=as_bool(entry.get("private", True), "vars_prompt private", entry_loc),
            confirm=as_bool(entry.get("confirm", False), "vars_prompt confirm", entry_loc),
            encrypt=str(entry["encrypt"]) if entry.get("encrypt") else None,
            salt=str(entry["salt"]) if entry.get("salt") is not None else None, salt_size=salt_size))
    return tuple(prompts)


Ask = Callable[[Prompt], str]
Hash = Callable[..., str]


def answer_prompts(play: Play, extra_vars: Mapping[str, Any], ask: Ask | None, hash_password: Hash,
                   secrets: Any = None) -> None:
    """Put the answers to ``play.vars_prompt`` into its play vars (``ask``: None when there is no
    terminal)."""
    values: dict[str, Any] = {}
    for prompt in play.vars_prompt:
        if prompt.name in extra_vars:
            continue
        if ask is not None:
            answer: Any = ask(prompt)
        elif prompt.default is not None:
            answer = prompt.default
        else:
            where_ = f"play {play.name!r}" if play.name else "a play"
            raise InputError(f"vars_prompt {prompt.name!r} of {where_} needs an answer and there is no terminal "
                             f"to ask on: give it with -e {prompt.name}=VALUE (or a default)", prompt.location)
        if prompt.encrypt:
            answer = hash_password(str(answer), prompt.encrypt, salt=prompt.salt, salt_size=prompt.salt_size)
        if prompt.private and secrets is not None and answer not in (None, ""):
            secrets.add(str(answer))
        values[prompt.name] = wrap(answer)  # data, never rendered
    if not values:
        return
    layer = Layer("play vars", "vars_prompt", values)
    layers = list(play.vars_layers)
    # the answers are play vars: just above the play's own vars (below vars_files and role vars)
    at = max((i + 1 for i, lay in enumerate(layers) if lay.kind == "play vars"),
             default=sum(1 for lay in layers if lay.kind == "role defaults"))
    layers.insert(at, layer)
    play.vars_layers = tuple(layers)


def terminal_asker(prompt_fn: Callable[..., Any]) -> Ask:
    """An ``ask`` that uses ``prompt_fn`` (``click.prompt``) the way Ansible prompts."""
    def ask(prompt: Prompt) -> str:
        default = None if prompt.default is None else str(prompt.default)
        return str(prompt_fn(prompt.prompt, default=default, hide_input=prompt.private,
                             confirmation_prompt=prompt.confirm, show_default=default is not None))
    return ask

