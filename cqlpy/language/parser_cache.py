"""The analysed grammar kept between processes as plain JSON data, so a process starts in ~50 ms.

Analysing cql.lark into LALR tables takes most of a second.  Lark's own cache is a pickle, and cqlpy
never unpickles a file; instead the tables (Lark's ``memo_serialize`` output: dicts, lists, strings
and numbers) are written as JSON and read back with ``json.loads``, which can build nothing but
those plain values, then handed to Lark's deserializer, which accepts only its own rule and
terminal records.  A missing, stale or damaged cache is ignored and rebuilt.

File: ``$XDG_CACHE_HOME/cqlpy`` (else ``~/.cache/cqlpy``) ``/cql-grammar-<sha256[:16]>-lark<v>.json``.
JSON cannot hold int dict keys or tuples, so those are tagged: a dict with non-string keys becomes
``{"\\u0000d": [[key, value], ...]}`` and a tuple ``{"\\u0000t": [items]}``.  The LALR action table,
most of the data, is stored compactly: ``{"\\u0000s": [[state, [token, action, argument, ...]], ...]}``
where a reduce's argument is its rule record (tagged as above) and a shift's is the next state.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable

import lark
from lark import Lark
from lark.grammar import Rule
from lark.lexer import TerminalDef

_DICT, _TUPLE, _STATES = "\x00d", "\x00t", "\x00s"
_RUNTIME_OPTIONS = ("transformer", "lexer_callbacks", "_plugins", "tree_class", "postlex",
                    "edit_terminals")


def cache_path(grammar: str) -> Path | None:
    """The cache file for this grammar text and Lark version; None if the folder is unusable."""
    try:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = Path(base) / "cqlpy"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        digest = hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:16]
        return folder / f"cql-grammar-{digest}-lark{lark.__version__}.json"
    except (OSError, RuntimeError):
        return None


def load_or_build(grammar: str, build: Callable[[], Lark], **runtime: Any) -> Lark:
    """The parser from the cache when it is there and sound, else ``build()`` (then cached)."""
    path = cache_path(grammar)
    if path is not None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"), object_hook=_untag)
            return Lark._load_from_dict(data["data"], data["memo"], **runtime)
        except Exception:   # noqa: BLE001 - any damage means: rebuild
            pass
    parser = build()
    if path is not None:
        _save(parser, path)
    return parser


def _save(parser: Lark, path: Path) -> None:
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    options = {k: v for k, v in data["options"].items() if k not in _RUNTIME_OPTIONS}
    data = {**data, "options": options}
    tables = data["parser"]["parser"]
    tables = {**tables, "states": {_STATES: [[state, [x for token, (action, arg) in actions.items()
                                                      for x in (token, action, _tag(arg))]]
                                             for state, actions in tables["states"].items()]}}
    data = {**data, "parser": {**data["parser"], "parser": tables}}
    text = json.dumps({"data": _tag(data), "memo": _tag(memo)}, separators=(",", ":"))
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass


def _tag(value: Any) -> Any:
    if isinstance(value, dict):
        if _STATES in value:
            return value
        if all(isinstance(k, str) for k in value):
            return {k: _tag(v) for k, v in value.items()}
        return {_DICT: [[_tag(k), _tag(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {_TUPLE: [_tag(v) for v in value]}
    if isinstance(value, list):
        return [_tag(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot cache a {type(value).__name__}")


def _untag(obj: dict) -> Any:
    if len(obj) == 1:
        if _DICT in obj:
            return {k: v for k, v in obj[_DICT]}
        if _TUPLE in obj:
            return tuple(obj[_TUPLE])
        if _STATES in obj:
            states = {}
            for state, flat in obj[_STATES]:
                states[state] = {flat[i]: (flat[i + 1], flat[i + 2]) for i in range(0, len(flat), 3)}
            return states
    return obj
