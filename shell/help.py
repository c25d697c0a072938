"""HELP, offline: shell commands from the registry, CQL statements from the grammar with an example.

``HELP`` lists both; ``HELP <topic>`` prints a shell command's syntax and help, or a CQL statement's
syntax taken from its rule in grammar/cql.lark (keywords upper case, Lark's notation: ``[x]``
optional, ``x*`` repeated, ``a | b`` alternatives) followed by an example.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from cqlpy.language.grammar import grammar_text

from .output import Output, message
from .render import columnize
from .special import commands, special_command, COMMANDS

# topic -> (grammar rules, example)
CQL_TOPICS: dict[str, tuple[tuple[str, ...], str]] = {
    "SELECT": (("select_statement", "select_head", "selector", "where_clause", "relation", "order_by_clause",
                "group_by_clause", "per_partition_limit_clause", "limit_clause"),
               "SELECT name, email FROM users WHERE id = 42 LIMIT 10;"),
    "INSERT": (("insert_statement", "using_clause"),
               "INSERT INTO users (id, name) VALUES (42, 'Ada') IF NOT EXISTS USING TTL 86400;"),
    "UPDATE": (("update_statement", "assignment", "conditions", "condition"), "UPDATE users SET name = 'Ada' WHERE id = 42 IF EXISTS;"),
    "DELETE": (("delete_statement", "deletion"), "DELETE email FROM users WHERE id = 42;"),
    "BATCH": (("batch_statement",),
              "BEGIN BATCH INSERT INTO t (k, v) VALUES (1, 'a'); DELETE FROM t WHERE k = 2; APPLY BATCH;"),
    "USE": (("use_statement",), "USE shop;"),
    "TRUNCATE": (("truncate_statement",), "TRUNCATE users;"),
    "CREATE_KEYSPACE": (("create_keyspace_statement",),
                        "CREATE KEYSPACE shop WITH replication = {'class': 'SimpleStrategy', "
                        "'replication_factor': 1};"),
    "ALTER_KEYSPACE": (("alter_keyspace_statement",), "ALTER KEYSPACE shop WITH durable_writes = false;"),
    "DROP_KEYSPACE": (("drop_keyspace_statement",), "DROP KEYSPACE IF EXISTS shop;"),
    "CREATE_TABLE": (("create_table_statement", "table_element", "column_definition", "partition_key",
                      "table_option"),
                     "CREATE TABLE users (id int, ts timestamp, name text, PRIMARY KEY (id, ts)) "
                     "WITH CLUSTERING ORDER BY (ts DESC);"),
    "ALTER_TABLE": (("alter_table_statement", "alter_table_instruction"), "ALTER TABLE users ADD email text;"),
    "DROP_TABLE": (("drop_table_statement",), "DROP TABLE IF EXISTS users;"),
    "CREATE_INDEX": (("create_index_statement",), "CREATE INDEX users_by_name ON users (name);"),
    "DROP_INDEX": (("drop_index_statement",), "DROP INDEX users_by_name;"),
    "CREATE_TYPE": (("create_type_statement",), "CREATE TYPE address (street text, city text);"),
    "ALTER_TYPE": (("alter_type_statement", "alter_type_instruction"), "ALTER TYPE address ADD zip text;"),
    "DROP_TYPE": (("drop_type_statement",), "DROP TYPE address;"),
    "CREATE_ROLE": (("create_role_statement", "role_option"),
                    "CREATE ROLE ada WITH PASSWORD = 'secret' AND LOGIN = true;"),
    "EXPLAIN": (("explain_statement",), "EXPLAIN SELECT * FROM users WHERE id = 42;"),
    "DESCRIBE": (("describe_statement", "describe_target"), "DESCRIBE TABLE users"),
    "TYPES": (("cql_type",), "map<text, frozen<list<int>>>"),
}
ALIASES = {"CREATE_COLUMNFAMILY": "CREATE_TABLE", "DESC": "DESCRIBE", "BEGIN": "BATCH",
           "APPLY": "BATCH", "SELECT_JSON": "SELECT", "INSERT_JSON": "INSERT"}


@lru_cache(maxsize=None)
def _rules() -> dict[str, str]:
    """Rule name -> its body (alternatives on separate lines), comments removed."""
    text = grammar_text()
    bodies: dict[str, str] = {}
    current = None
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].rstrip()
        if not line.strip():
            current = None if not raw.startswith(" ") else current
            continue
        match = re.match(r"^[?!]?([a-z_][a-z0-9_]*)(?:\.\d+)?\s*:(.*)$", line)
        if match:
            current = match.group(1)
            bodies[current] = match.group(2).strip()
        elif re.match(r"^[A-Z_%]", line):
            current = None
        elif current is not None:
            bodies[current] += "\n" + line.strip()
    return bodies


def rule_syntax(rule: str) -> str:
    """A grammar rule as readable syntax: ``K_SELECT`` -> ``SELECT``, aliases dropped."""
    body = _rules().get(rule)
    if body is None:
        return ""
    alternatives = []
    for alternative in body.split("\n"):
        alternative = alternative.strip()
        if alternative.startswith("|"):
            alternative = alternative[1:].strip()
        alternative = re.sub(r"\s*->\s*\w+\s*$", "", alternative)
        alternative = re.sub(r"\bK_([A-Z_]+)\b", lambda m: m.group(1), alternative)
        alternative = re.sub(r"\b_(\w+)_keyword\b", lambda m: m.group(1).upper(), alternative)
        # punctuation that reads like the notation ([x] optional, (x)* repeated) keeps quotes
        alternative = re.sub(r'"([()\[\]*|?])"', r"'\1'", alternative).replace('"', "")
        if alternative:
            alternatives.append(alternative)
    head = f"{rule} ::= "
    pad = " " * (len(head) - 2) + "| "
    return head + ("\n" + pad).join(alternatives)


def topic_text(topic: str) -> str | None:
    """The help text of a topic (shell command or CQL statement), or None when unknown."""
    key = topic.strip().upper().replace(" ", "_")
    key = ALIASES.get(key, key)
    command = COMMANDS.get(topic.strip().upper()) or COMMANDS.get(key)
    parts = []
    if command is not None:
        parts.append(f"{command.syntax}\n\n{command.help}\n")
    if key in CQL_TOPICS:
        rules, example = CQL_TOPICS[key]
        parts.append("\n\n".join(rule_syntax(r) for r in rules if rule_syntax(r)) +
                     f"\n\nExample:\n  {example}\n")
    return "\n".join(parts) if parts else None


def _help_completer(args: list[str], prefix: str, catalog: Any) -> list:
    from .completion import Suggestion
    if args:
        return []
    topics = sorted({c.name.split()[0] for c in commands()} | set(CQL_TOPICS))
    return [Suggestion(t, "value") for t in topics]


@special_command("HELP", aliases=("?",), syntax="HELP [topic]", completer=_help_completer,
                 help="Lists the shell commands and CQL topics; HELP <topic> shows one (offline).")
def help_(shell: Any, argument: str) -> Output:
    if not argument:
        names = sorted({c.name for c in commands() if not c.hidden})
        width = shell.render_options().width if shell is not None else 80
        return message("\nDocumented shell commands:\n===========================\n" + columnize(names, width) +
                       "\nCQL help topics:\n================\n" + columnize(sorted(CQL_TOPICS), width))
    text = topic_text(argument)
    if text is None:
        from .runner import ShellError
        raise ShellError(f"*** No help on {argument}")
    return message(text)
