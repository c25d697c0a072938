"""The special-command registry: one decorator fills it; HELP, completion and dispatch all read it.

    @special_command("EXPAND", syntax="EXPAND [ON | OFF | AUTO]", help="Vertical output ...",
                     arguments=(("ON", "OFF", "AUTO"),))
    def expand(shell, arg: str) -> Output: ...

A handler receives the shell and the text after the command's name (stripped, without a trailing
``;``) and returns an Output, like a query.  Anything not in the registry is CQL for the session.
Special commands end at the end of their line (or a ``;``), as in cqlsh, except those marked
``semicolon=True`` (USE and EXPLAIN are CQL statements and end at ``;``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

Handler = Callable[[Any, str], Any]
Completer = Callable[[list[str], str, Any], list]     # (words before the cursor, prefix, catalog)


@dataclass(frozen=True)
class SpecialCommand:
    name: str                                  # upper case, may be two words: "SERIAL CONSISTENCY"
    handler: Handler
    syntax: str
    help: str
    aliases: tuple[str, ...] = ()
    arguments: tuple[tuple[str, ...], ...] = ()  # completion choices, one tuple per argument position
    completer: Completer | None = None         # for arguments that need more than fixed choices
    semicolon: bool = False                    # ends at ';' (a CQL statement), not at the newline
    hidden: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name,) + self.aliases


COMMANDS: dict[str, SpecialCommand] = {}       # every name and alias, upper case -> command
_ORDER: list[SpecialCommand] = []


def special_command(name: str, *, syntax: str, help: str, aliases: Sequence[str] = (),
                    arguments: Sequence[Sequence[str]] = (), completer: Completer | None = None,
                    semicolon: bool = False, hidden: bool = False) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of special command ``name``."""
    def register(handler: Handler) -> Handler:
        command = SpecialCommand(name.upper(), handler, syntax, help.strip(),
                                 tuple(a.upper() for a in aliases),
                                 tuple(tuple(choices) for choices in arguments), completer, semicolon,
                                 hidden)
        for key in command.names:
            COMMANDS[key] = command
        _ORDER[:] = [c for c in _ORDER if c.name != command.name] + [command]
        return handler
    return register


def commands() -> list[SpecialCommand]:
    """Every registered command once, in registration order."""
    load_all()
    return list(_ORDER)


def load_all() -> None:
    """Import the modules that register commands (commands, copy, help)."""
    from . import commands as _commands, copy as _copy, help as _help    # noqa: F401


_WORDS = re.compile(r"\s*([A-Za-z_?][A-Za-z0-9_]*|\?)")


def find_command(text: str) -> tuple[SpecialCommand, str] | None:
    """The special command ``text`` starts with, and the rest of the text (its argument), or None."""
    load_all()
    first = _WORDS.match(text)
    if first is None:
        return None
    word = first.group(1).upper()
    second = _WORDS.match(text, first.end())
    if second is not None:
        two = f"{word} {second.group(1).upper()}"
        if two in COMMANDS:
            return COMMANDS[two], _argument(text[second.end():])
    if word in COMMANDS:
        rest = text[first.end():]
        if rest and not (rest[0].isspace() or rest[0] in ";'\""):
            return None
        return COMMANDS[word], _argument(rest)
    return None


def starts_special(text: str) -> SpecialCommand | None:
    """The command that ``text`` (a statement's first words) names, if it ends at a newline."""
    found = find_command(text)
    if found is None or found[0].semicolon:
        return None
    return found[0]


def _argument(rest: str) -> str:
    rest = rest.strip()
    while rest.endswith(";"):
        rest = rest[:-1].rstrip()
    return rest
