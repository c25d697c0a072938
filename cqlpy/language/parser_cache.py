"""The analysed grammar kept between processes as plain JSON data, loaded in a few milliseconds.

Analysing cql.lark into LALR tables takes most of a second.  Lark's own cache is a pickle, and cqlpy
never unpickles a file; instead the analysis is written as JSON and read back with ``json.loads``,
which can build nothing but plain values, and cqlpy builds Lark's objects from those values itself
(only rules, symbols and the parse table; anything else goes through Lark's deserializer, which
accepts only its own records).  A missing, stale or damaged cache is ignored and rebuilt.

File: ``$XDG_CACHE_HOME/cqlpy`` (else ``~/.cache/cqlpy``) ``/cql-grammar-<sha256[:16]>-lark<v>-t2.json``,
one JSON object (format 3) with these members:

* ``"format"``: 3;
* ``"data"``: Lark's ``memo_serialize`` output for the parser minus its parse table
  (``data.parser.parser`` is ``null``) and minus the code options; JSON cannot hold int dict keys
  or tuples, so a dict with non-string keys is written ``{"\\u0000d": [[key, value], ...]}`` and a
  tuple ``{"\\u0000t": [items]}``;
* ``"terminals"``: ``[[memo id, TerminalDef record], ...]`` (Lark's records, tagged as above);
* ``"symbols"``: ``[[name, is_terminal, filter_out], ...]``, the grammar symbols, referred to by index;
* ``"rules"``: ``[[memo id, origin symbol, [expansion symbols], order, alias, keep_all_tokens,
  expand1, priority, template_source, [empty_indices]], ...]``;
* ``"table"``: the LALR table: ``{"tokens": [name, ...], "start_states": {start: state},
  "end_states": {start: state}, "states": [[state, "token index ...", "action ..."], ...]}``
  (space-separated decimal integers, so a state is decoded only when the parser first reaches it)
  where an action is ``2 * next_state`` for a shift and ``2 * rule memo id + 1`` for a reduce.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable

import lark
from lark import Lark
from lark.grammar import NonTerminal, Rule, RuleOptions, Terminal
from lark.lexer import TerminalDef
from lark.parsers.lalr_analysis import IntParseTable, Reduce, Shift
from lark.parsers.lalr_parser import LALR_Parser, _Parser

FORMAT = 3
_DICT, _TUPLE = "\x00d", "\x00t"
_RUNTIME_OPTIONS = ("transformer", "lexer_callbacks", "_plugins", "tree_class", "postlex",
                    "edit_terminals")


def cache_path(grammar: str) -> Path | None:
    """The cache file for this grammar text and Lark version; None if the folder is unusable."""
    try:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = Path(base) / "cqlpy"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        digest = hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:16]
        return folder / f"cql-grammar-{digest}-lark{lark.__version__}-t{FORMAT}.json"
    except (OSError, RuntimeError):
        return None


def load_or_build(grammar: str, build: Callable[[], Lark], **runtime: Any) -> Lark:
    """The parser from the cache when it is there and sound, else ``build()`` (then cached)."""
    path = cache_path(grammar)
    if path is not None:
        try:
            text = path.read_bytes()
            return _load(json.loads(text), runtime, tagged=b"\\u0000" in text)
        except Exception:   # noqa: BLE001 - any damage means: rebuild
            pass
    parser = build()
    if path is not None:
        _save(parser, path)
    return parser


# --- writing --------------------------------------------------------------------------------------------

def _save(parser: Lark, path: Path) -> None:
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    options = {k: v for k, v in data["options"].items() if k not in _RUNTIME_OPTIONS}
    table = data["parser"]["parser"]
    data = {**data, "options": options, "parser": {**data["parser"], "parser": None}}
    symbols: dict[tuple, int] = {}

    def symbol(record: dict) -> int:
        key = (record["name"], record["__type__"] == "Terminal", bool(record.get("filter_out", False)))
        return symbols.setdefault(key, len(symbols))

    terminals, rules = [], []
    for memo_id, record in memo.items():
        if record["__type__"] == "Rule":
            opts = record["options"]
            rules.append([memo_id, symbol(record["origin"]), [symbol(s) for s in record["expansion"]],
                          record["order"], record["alias"], opts["keep_all_tokens"], opts["expand1"],
                          opts["priority"], opts["template_source"], list(opts["empty_indices"])])
        else:
            terminals.append([memo_id, _tag(record)])
    states = []
    for state, actions in table["states"].items():
        keys, codes = [], []
        for token, (action, arg) in actions.items():
            keys.append(token)
            codes.append(2 * arg["@"] + 1 if action == 1 else 2 * arg)
        states.append([state, " ".join(map(str, keys)), " ".join(map(str, codes))])
    tokens = table["tokens"]
    document = {"format": FORMAT, "data": _tag(data), "terminals": terminals,
                "symbols": [list(key) for key in symbols], "rules": rules,
                "table": {"tokens": [tokens[i] for i in range(len(tokens))],
                          "start_states": table["start_states"], "end_states": table["end_states"],
                          "states": states}}
    text = json.dumps(document, separators=(",", ":"))
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


# --- reading --------------------------------------------------------------------------------------------

def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            if _DICT in value:
                return {_untag(k): _untag(v) for k, v in value[_DICT]}
            if _TUPLE in value:
                return tuple(_untag(v) for v in value[_TUPLE])
        return {k: _untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    return value


def _load(document: dict, runtime: dict, tagged: bool = True) -> Lark:
    if document["format"] != FORMAT:
        raise ValueError("another cache format")
    untag = _untag if tagged else (lambda value: value)    # no tag in the file: nothing to untag
    memo: dict[int, Any] = {memo_id: TerminalDef.deserialize(untag(record), {})
                            for memo_id, record in document["terminals"]}
    symbols = [Terminal(name, bool(filter_out)) if is_terminal else NonTerminal(name)
               for name, is_terminal, filter_out in document["symbols"]]
    for (memo_id, origin, expansion, order, alias, keep_all_tokens, expand1, priority, template,
         empty) in document["rules"]:
        options = RuleOptions(keep_all_tokens, expand1, priority, template, tuple(empty))
        memo[memo_id] = Rule(symbols[origin], [symbols[s] for s in expansion], order, alias, options)
    table_parser = type("TableParser", (_TableParser,), {"table": document["table"]})
    return Lark._load_from_dict(untag(document["data"]), memo,
                                _plugins={"LALR_Parser": table_parser}, **runtime)


class _TableParser(LALR_Parser):
    """Lark's LALR parser, its parse table built from the compact table of the cache (a subclass
    per load carries that table)."""

    table: dict

    @classmethod
    def deserialize(cls, data, memo, callbacks, debug=False):
        table = cls.table
        inst = cls.__new__(cls)
        states = _States(table["states"], table["tokens"], memo)
        inst._parse_table = IntParseTable(states, table["start_states"], table["end_states"])
        inst.parser = _Parser(inst._parse_table, callbacks, debug)
        return inst


class _States(dict):
    """The LALR table, ``state -> {token: (Shift, state) | (Reduce, rule)}``, each state decoded on
    its first lookup (a parse visits a few dozen of the ~1300); anything but a lookup (iterating,
    ``get``, ``in``, ``len``...) first decodes them all, so it sees a plain, complete dict."""

    def __init__(self, rows: list, tokens: list[str], memo: dict[int, Any]):
        super().__init__()
        self._rows = {state: (keys, codes) for state, keys, codes in rows}
        self._tokens, self._memo = tokens, memo
        self._actions: dict[int, tuple] = {}
        self._decoded_all = False

    def _action(self, code: int) -> tuple:
        action = self._actions.get(code)
        if action is None:
            action = (Reduce, self._memo[code >> 1]) if code & 1 else (Shift, code >> 1)
            self._actions[code] = action
        return action

    def __missing__(self, state):
        keys, codes = self._rows[state]
        actions = dict(zip(map(self._tokens.__getitem__, map(int, keys.split())),
                           map(self._action, map(int, codes.split()))))
        dict.__setitem__(self, state, actions)
        return actions

    def _complete(self) -> None:
        if self._decoded_all:
            return
        decoded = dict(dict.items(self))                # decode the rest, keeping the table's order
        dict.clear(self)
        for state in self._rows:
            if state in decoded:
                dict.__setitem__(self, state, decoded[state])
            else:
                self.__missing__(state)
        self._decoded_all = True


def _complete_first(name: str):
    method = getattr(dict, name)

    def complete_first(self, *args, **kwargs):
        self._complete()
        return method(self, *args, **kwargs)
    complete_first.__name__ = complete_first.__qualname__ = name
    return complete_first


for _name in ("__iter__", "__len__", "__contains__", "__eq__", "__ne__", "__repr__", "__reversed__",
              "__or__", "__ror__", "__ior__", "keys", "values", "items", "get", "copy", "pop", "popitem",
              "setdefault", "update", "__setitem__", "__delitem__", "clear"):
    setattr(_States, _name, _complete_first(_name))
del _name
