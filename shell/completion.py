"""Completion as a pure function: ``complete(text, cursor, catalog) -> [Suggestion]``.

Only what is valid at the cursor is offered.  For CQL the grammar decides (grammar_facts: the exact
set of acceptable next tokens, and the rule waiting for a name); the catalog snapshot supplies the
names: keyspaces, tables, user types, and columns — after WHERE the partition-key columns first, then
the clustering columns in order, then the rest.  Keywords that are only usable as names there are not
offered as keywords.  Special commands complete from the registry (their argument choices or their
own completer).  Hints (``<new table name>``) are shown and never inserted: their ``text`` is empty.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Iterable

from cqlpy.schema.types import quote_identifier

from .catalog import EMPTY, Catalog, TableMeta
from .grammar_facts import LarkError, grammar_facts
from .output import CLUSTERING, PARTITION_KEY
from .special import commands, find_command


@dataclass(frozen=True)
class Suggestion:
    text: str                    # inserted in place of the word before the cursor ('' for a hint)
    kind: str                    # keyword, keyspace, table, column, type, function, property, punctuation,
                                 # command, value, file, hint
    display: str = ""            # what a menu shows (the text when empty)
    replace: int | None = None   # characters before the cursor it replaces (None: the word there)

    @property
    def label(self) -> str:
        return self.display or self.text


KEYSPACE_PROPERTIES = ("replication", "durable_writes")
TABLE_PROPERTIES = ("additional_write_policy", "bloom_filter_fp_chance", "caching", "cdc", "comment",
                    "compaction", "compression", "crc_check_chance", "default_time_to_live", "extensions",
                    "gc_grace_seconds", "max_index_interval", "memtable_flush_period_in_ms",
                    "min_index_interval", "read_repair", "speculative_retry")
FUNCTIONS = ("avg", "blobAsBigint", "blobAsInt", "blobAsText", "bigintAsBlob", "cast", "count",
             "currentDate", "currentTime", "currentTimeUUID", "currentTimestamp", "dateOf", "intAsBlob",
             "max", "maxTimeuuid", "min", "minTimeuuid", "now", "sum", "textAsBlob", "toDate",
             "toTimestamp", "toUnixTimestamp", "token", "ttl", "unixTimestampOf", "uuid", "writetime")
REPLICATION_SNIPPETS = ("{'class': 'SimpleStrategy', 'replication_factor': 1}",
                        "{'class': 'NetworkTopologyStrategy', 'datacenter1': 1}")

_PREFIX = re.compile(r'(?:"(?:[^"]|"")*|[A-Za-z0-9_]*)\Z')
_NAME_TOKENS = ("IDENT", "QUOTED_NAME")
_TABLE_INTRODUCERS = ("K_FROM", "K_UPDATE", "K_INTO", "K_ON", "K_TABLE", "K_COLUMNFAMILY", "K_TRUNCATE")
_COLUMN_RULES = frozenset({"relation", "column_tuple", "assignment", "condition", "deletion", "deletions",
                           "ordering", "index_target", "clustering_order", "selector_atom", "where_clause",
                           "order_by_clause", "group_by_clause", "alter_table_instruction", "in_values",
                           "selector_args", "select_clause", "update_statement", "conditions",
                           "delete_statement"})
_NEW_NAME_HINTS = {"column_definition": "<new column name>", "added_column": "<new column name>",
                   "field_definition": "<new field name>", "selector_alias": "<alias>",
                   "index_name": "<new index name>", "create_keyspace_statement": "<new keyspace name>",
                   "role_name": "<role name>", "user_name": "<user name>", "alter_type_instruction": "<field name>",
                   "term": "<marker name>", "int_value": "<marker name>", "user_type_literal": "<field name>"}
_VALUE_HINTS = {"STRING_LITERAL": "<string>", "INTEGER": "<integer>", "FLOAT": "<float>", "UUID": "<uuid>",
                "HEXNUMBER": "<blob>", "DURATION": "<duration>", "QMARK": "?"}


def complete(text: str, cursor: int | None = None, catalog: Catalog = EMPTY,
             listdir=os.listdir) -> list[Suggestion]:
    """What may be typed at ``cursor`` in ``text`` (the shell's whole input buffer); ``listdir``
    lists a folder for file names in quotes (SOURCE, CAPTURE, COPY)."""
    cursor = len(text) if cursor is None else cursor
    before = text[:cursor]
    start = statement_start(before)
    statement = before[start:]
    after = _rest_of_statement(text[cursor:])
    prefix = _PREFIX.search(statement).group()
    head = statement[:len(statement) - len(prefix)]
    if not head.strip():
        return _filter(_first_words(), prefix)
    path = _FILE_ARGUMENT.search(statement)
    if path is not None and find_command(statement) is not None:
        return file_suggestions(path.group(1), listdir)
    found = find_command(head + " ")
    if found is not None and not _grammar_handles(found[0].name):
        return _filter(_special_arguments(found[0], head, prefix, catalog), prefix)
    return _filter(_cql(head, statement + after, prefix, catalog), prefix)


_FILE_ARGUMENT = re.compile(r"^\s*(?:SOURCE|CAPTURE|COPY\b.*\b(?:TO|FROM))\s+'([^']*)\Z",
                            re.IGNORECASE | re.DOTALL)


def file_suggestions(partial: str, listdir=os.listdir) -> list[Suggestion]:
    """Files and folders completing ``partial`` (the text after an opening quote)."""
    expanded = os.path.expanduser(partial)
    folder, stem = os.path.split(expanded)
    try:
        names = sorted(listdir(folder or "."))
    except OSError:
        return []
    out = []
    for name in names:
        if not name.startswith(stem) or (name.startswith(".") and not stem.startswith(".")):
            continue
        is_dir = os.path.isdir(os.path.join(folder or ".", name))
        out.append(Suggestion(name + ("/" if is_dir else "'"), "file", name + ("/" if is_dir else ""),
                              replace=len(stem)))
    return out


def statement_start(before: str) -> int:
    """Offset where the statement under the cursor begins (after the last complete statement)."""
    import cqlpy
    position = len(before)
    while True:
        position = before.rfind(";", 0, position)
        if position < 0:
            start = 0
            break
        if cqlpy.is_complete(before[:position + 1]):
            start = position + 1
            break
    # a special command ends at its newline: the statement after it starts on the next line
    while True:
        leading = len(before[start:]) - len(before[start:].lstrip())
        first_line_end = before.find("\n", start + leading)
        if first_line_end < 0:
            return start
        found = find_command(before[start + leading:first_line_end] + " ")
        if found is None or found[0].semicolon:
            return start
        start = first_line_end + 1


def _rest_of_statement(after: str) -> str:
    end = after.find(";")
    return after if end < 0 else after[:end]


def _grammar_handles(name: str) -> bool:
    return name.split()[0] in set(_statement_keywords())


def _statement_keywords() -> tuple[str, ...]:
    from .grammar_facts import statement_keywords
    return statement_keywords()


def _first_words() -> list[Suggestion]:
    words = {w: Suggestion(w, "keyword") for w in _statement_keywords()}
    for command in commands():
        if command.hidden:
            continue
        for name in command.names:
            words.setdefault(name, Suggestion(name, "command"))
    return sorted(words.values(), key=lambda s: s.text)


def _filter(suggestions: Iterable[Suggestion], prefix: str) -> list[Suggestion]:
    seen: set[tuple[str, str]] = set()
    result: list[Suggestion] = []
    lowered = prefix.lower()
    for s in suggestions:
        if s.kind == "hint":
            if not prefix:
                result.append(s)
            continue
        if lowered and not s.text.lower().startswith(lowered) and \
                not s.text.lower().startswith('"' + lowered):
            continue
        text = s.text
        if s.kind in ("keyword", "command") and prefix and prefix.islower():
            text = text.lower()
        key = (text, s.kind)
        if key in seen:
            continue
        seen.add(key)
        result.append(Suggestion(text, s.kind, s.display, s.replace))
    return result


# --- special commands -------------------------------------------------------------------------------

_ARG_WORD = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[^\s(),=]+|[(),=]")


def _special_arguments(command, head: str, prefix: str, catalog: Catalog) -> list[Suggestion]:
    words = _ARG_WORD.findall(head)
    name_words = len(command.name.split())
    args = words[name_words:] if words[:1] and words[0].upper() == command.name.split()[0] else words[1:]
    if command.completer is not None:
        return command.completer(args, prefix, catalog)
    if len(args) < len(command.arguments):
        return [Suggestion("", "hint", choice) if choice.startswith("<") else Suggestion(choice, "value")
                for choice in command.arguments[len(args)]]
    return []


# --- CQL --------------------------------------------------------------------------------------------

def _cql(head: str, whole: str, prefix: str, catalog: Catalog) -> list[Suggestion]:
    facts = grammar_facts()
    try:
        tokens = facts.lex(head)
    except LarkError:
        return []
    stack = facts.run(tokens)
    if stack is None:
        return []
    acceptable = facts.acceptable(stack)
    names: list[Suggestion] = []
    if "IDENT" in acceptable:
        state = facts.state_before_shift(stack, "IDENT")
        names = _names(facts, state, tokens, whole, catalog)
    if prefix.startswith('"'):
        return names
    keywords = []
    for terminal in acceptable:
        text = facts.keyword_text.get(terminal)
        if text is None:
            continue
        if text in facts.reserved or facts.is_keyword_use(facts.state_before_shift(stack, terminal), terminal):
            keywords.append(Suggestion(text.upper(), "keyword"))
    keywords.sort(key=lambda s: s.text)
    punctuation = sorted((Suggestion(facts.terminal_text[t], "punctuation") for t in acceptable
                          if t in facts.terminal_text and t not in facts.keyword_text
                          and not facts.terminal_text[t].isalpha()), key=lambda s: s.text)
    snippets = _snippets(tokens)
    hints = [Suggestion("", "hint", _VALUE_HINTS[t]) for t in sorted(acceptable) if t in _VALUE_HINTS
             and not snippets] if not names else []
    return snippets + names + keywords + punctuation + hints


def _snippets(tokens) -> list[Suggestion]:
    if len(tokens) >= 2 and tokens[-1].type == "EQUAL" and tokens[-2].value.lower() == "replication":
        return [Suggestion(s, "value") for s in REPLICATION_SNIPPETS]
    return []


def _name_of(token) -> str:
    if token.type == "QUOTED_NAME":
        return token.value[1:-1].replace('""', '"')
    return token.value.lower()


def _is_name_token(token) -> bool:
    return token.type in _NAME_TOKENS or token.type.startswith("K_")


def _table_reference(whole: str, catalog: Catalog) -> TableMeta | None:
    """The table a statement is about: the name after FROM/UPDATE/INTO/ON/TABLE/TRUNCATE."""
    facts = grammar_facts()
    try:
        tokens = facts.lex(whole)
    except LarkError:
        match = re.match(r"[^']*", whole)
        try:
            tokens = facts.lex(match.group() if match else "")
        except LarkError:
            return None
    for i, token in enumerate(tokens):
        if token.type not in _TABLE_INTRODUCERS or i + 1 >= len(tokens):
            continue
        first = tokens[i + 1]
        if not _is_name_token(first):
            continue
        qualified = i + 3 < len(tokens) and tokens[i + 2].type == "DOT" and _is_name_token(tokens[i + 3])
        if qualified:
            table = catalog.table(_name_of(first), _name_of(tokens[i + 3]))
        else:
            table = catalog.table(None, _name_of(first))
        if table is not None:
            return table
    return None


_RELATION_OPERATORS = {"EQUAL", "LESSTHAN", "LESSEQUAL", "MORETHAN", "MOREEQUAL", "NOTEQUAL", "K_IN",
                       "K_CONTAINS", "K_LIKE", "K_IS"}


def _restricted(tokens) -> set[str]:
    """Columns the WHERE clause before the cursor already restricts (quoted as suggested)."""
    where = max((i for i, t in enumerate(tokens) if t.type == "K_WHERE"), default=None)
    if where is None:
        return set()
    return {_quoted(_name_of(t)) for t, following in zip(tokens[where + 1:], tokens[where + 2:])
            if _is_name_token(t) and following.type in _RELATION_OPERATORS}


def _defined_columns(tokens) -> list[str]:
    """Column names defined so far in a CREATE TABLE's parentheses."""
    names, depth, previous = [], 0, None
    for token in tokens:
        if token.type == "LPAR":
            depth += 1
        elif token.type == "RPAR":
            depth -= 1
        elif depth == 1 and previous in ("LPAR", "COMMA") and _is_name_token(token) and token.type != "K_PRIMARY":
            names.append(_name_of(token))
        previous = token.type
    return names


def _quoted(name: str) -> str:
    return quote_identifier(name)


def _keyspace_suggestions(catalog: Catalog, dotted: bool = False) -> list[Suggestion]:
    return [Suggestion(_quoted(ks) + ("." if dotted else ""), "keyspace") for ks in catalog.keyspaces]


def _table_suggestions(catalog: Catalog, keyspace: str | None) -> list[Suggestion]:
    ks = keyspace or catalog.keyspace
    if ks is None:
        return []
    return [Suggestion(_quoted(t), "table") for t in sorted(catalog.tables.get(ks, {}))]


def _type_suggestions(catalog: Catalog, keyspace: str | None) -> list[Suggestion]:
    ks = keyspace or catalog.keyspace
    return [Suggestion(_quoted(t), "type") for t in catalog.types.get(ks, ())] if ks else []


def _column_suggestions(table: TableMeta | None, rule: str) -> list[Suggestion]:
    if table is None:
        return []
    columns = list(table.columns)
    if rule == "assignment":        # SET: keys cannot be set, offer the others first
        columns.sort(key=lambda c: c.kind in (PARTITION_KEY, CLUSTERING))
    elif rule in ("ordering", "clustering_order"):
        columns = [c for c in columns if c.kind == CLUSTERING]
    return [Suggestion(_quoted(c.name), "column") for c in columns]


def _names(facts, state, tokens, whole: str, catalog: Catalog) -> list[Suggestion]:
    contexts = facts.name_contexts(state)
    out: list[Suggestion] = []
    qualifier = _name_of(tokens[-2]) if len(tokens) >= 2 and tokens[-1].type == "DOT" else None
    for item in contexts:
        rule = item.rule
        if rule in ("table_name", "type_name"):
            lister = _table_suggestions if rule == "table_name" else _type_suggestions
            if item.index == 2:
                out += lister(catalog, qualifier)
                continue
            creating = {p.rule for p in facts.parents(state, rule)} & {"create_table_statement",
                                                                      "create_type_statement"}
            if not creating:
                out += lister(catalog, None)
            out += _keyspace_suggestions(catalog, dotted=True)
        elif rule == "function_name" or item.next in ("function_ident", "selector_function_ident"):
            out += [Suggestion(f, "function") for f in FUNCTIONS]
        elif rule in ("use_statement", "drop_keyspace_statement", "alter_keyspace_statement"):
            out += _keyspace_suggestions(catalog)
        elif rule == "describe_target":
            if "K_KEYSPACE" in item.expansion:
                out += _keyspace_suggestions(catalog)
            elif item.index == 2 and qualifier:
                out += _table_suggestions(catalog, qualifier)
            else:
                out += _keyspace_suggestions(catalog) + _table_suggestions(catalog, None)
        elif rule == "property":
            statement = tokens[0].type if tokens else ""
            second = tokens[1].type if len(tokens) > 1 else ""
            keyspace_level = second in ("K_KEYSPACE", "K_SCHEMA")
            names = KEYSPACE_PROPERTIES if keyspace_level and statement in ("K_CREATE", "K_ALTER") \
                else TABLE_PROPERTIES
            out += [Suggestion(p, "property") for p in names]
        elif rule == "partition_key" or (rule == "table_element" and item.index > 0):
            out += [Suggestion(_quoted(c), "column") for c in _defined_columns(tokens)]
        elif rule in _COLUMN_RULES or (rule == "unaliased_selector" and item.index == 0):
            columns = _column_suggestions(_table_reference(whole, catalog), rule)
            if rule == "relation":          # columns already restricted go last
                restricted = _restricted(tokens)
                columns.sort(key=lambda s: s.text in restricted)
            out += columns
        elif rule in _NEW_NAME_HINTS:
            out.append(Suggestion("", "hint", _NEW_NAME_HINTS[rule]))
    return sorted(out, key=lambda s: _KIND_ORDER.get(s.kind, 9))     # stable: keeps key order


_KIND_ORDER = {"column": 0, "table": 1, "type": 2, "keyspace": 3, "property": 4, "function": 5, "hint": 6}
