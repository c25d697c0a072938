"""AST → canonical CQL, the inverse of the parser: ``parse_one(to_cql(s)) == s`` for every statement.

Canonical form: keywords in upper case, one space between words, ``, `` between list items, one
line per statement, no trailing ``;``.  Identifiers are written as stored and double-quoted only when
they must be (not ``[a-z][a-z0-9_]*``, a reserved keyword, or a keyword the position does not accept
as a name).  Strings use single quotes (``''`` escapes), booleans ``true``/``false``, types lower case
(``map<text, frozen<list<int>>>``).  A single-column primary key without clustering columns is written
inline (``k int PRIMARY KEY``); every other key as a ``PRIMARY KEY (...)`` clause.  ORDER BY and
CLUSTERING ORDER BY always name the direction.

Two shapes cannot round-trip because the syntax has no way to tell them apart, as in Cassandra:
an empty MapLiteral prints as ``{}``, which reads back as an empty SetLiteral (except in WITH
options), and a one-element TupleLiteral in a SELECT clause prints as a parenthesised selector.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable

from . import ast as a
from .grammar import keywords_of, reserved_keywords, unreserved_keywords

_PLAIN_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


# --- identifiers ---------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _refused_names(rule: str) -> frozenset[str]:
    """Keywords that cannot be unquoted names where ``rule`` is expected."""
    if rule == "ident":
        return reserved_keywords()
    return reserved_keywords() | (unreserved_keywords() - keywords_of(rule))


def quote_name(name: str, rule: str = "ident") -> str:
    """``name`` as an identifier where the grammar expects ``rule`` (ident, function_ident,
    type_ident, describe_name), double-quoted when it has to be."""
    if _PLAIN_NAME.match(name) and name not in _refused_names(rule):
        return name
    return '"' + name.replace('"', '""') + '"'


def _function_name(name: str, keyspace: str | None, in_selection: bool) -> str:
    if name == "token" and keyspace is None:
        text = "token"                      # reserved, but TOKEN is a function name in the grammar
    elif name == "count" and keyspace is None and in_selection:
        text = "count"                      # count(...) has its own selector rules
    else:
        text = quote_name(name, "function_ident")
    return text if keyspace is None else f"{quote_name(keyspace)}.{text}"


def qualified(name: a.QualifiedName, rule: str = "ident") -> str:
    text = quote_name(name.name, rule)
    return text if name.keyspace is None else f"{quote_name(name.keyspace)}.{text}"


def string_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# --- types and terms -----------------------------------------------------------------------------

def cql_type(t: a.CQLType) -> str:
    if t.params and t.name in ("list", "set", "map", "tuple") and t.keyspace is None:
        text = f"{t.name}<{', '.join(cql_type(p) for p in t.params)}>"
    elif t.is_native:
        text = t.name
    else:
        text = quote_name(t.name, "type_ident")
        if t.keyspace is not None:
            text = f"{quote_name(t.keyspace)}.{text}"
    return f"frozen<{text}>" if t.frozen else text


def term(node: Any, in_selection: bool = False) -> str:
    """A term, or (``in_selection``) a selector expression."""
    printer = _TERMS.get(type(node))
    if printer is None:
        raise TypeError(f"not a CQL term: {node!r}")
    return printer(node, in_selection)


def _items(items, in_selection: bool) -> str:
    return ", ".join(term(item, in_selection) for item in items)


def _constant(node: a.Constant, _: bool) -> str:
    if node.kind == "string":
        return string_literal(node.text)
    return node.text


def _marker(node: a.BindMarker, _: bool) -> str:
    return "?" if node.name is None else ":" + quote_name(node.name)


def _function_call(node: a.FunctionCall, in_selection: bool) -> str:
    return f"{_function_name(node.name, node.keyspace, in_selection)}({_items(node.args, in_selection)})"


def _map(node: a.MapLiteral, in_selection: bool) -> str:
    return "{" + ", ".join(f"{term(k, in_selection)}: {term(v, in_selection)}" for k, v in node.entries) + "}"


def _user_type_literal(node: a.UserTypeLiteral, in_selection: bool) -> str:
    return "{" + ", ".join(f"{quote_name(f)}: {term(v, in_selection)}" for f, v in node.fields) + "}"


def _slice(node: a.SliceSelection, in_selection: bool) -> str:
    start = "" if node.start is None else term(node.start)
    end = "" if node.end is None else term(node.end)
    return f"{term(node.expression, True)}[{start}..{end}]"


_TERMS: dict[type, Callable[[Any, bool], str]] = {
    a.Constant: _constant,
    a.BindMarker: _marker,
    a.ListLiteral: lambda n, s: f"[{_items(n.items, s)}]",
    a.SetLiteral: lambda n, s: "{" + _items(n.items, s) + "}",
    a.MapLiteral: _map,
    a.TupleLiteral: lambda n, s: f"({_items(n.items, s)})",
    a.UserTypeLiteral: _user_type_literal,
    a.FunctionCall: _function_call,
    a.TypeHint: lambda n, s: f"({cql_type(n.type)}) {term(n.term, s)}",
    a.Cast: lambda n, s: f"CAST({term(n.term, s)} AS {cql_type(n.type)})",
    a.ColumnRef: lambda n, s: quote_name(n.name),
    a.CountRows: lambda n, s: "count(*)",
    a.WritetimeOrTTL: lambda n, s: f"{n.kind}({quote_name(n.column)})",
    a.ElementSelection: lambda n, s: f"{term(n.expression, True)}[{term(n.key)}]",
    a.SliceSelection: _slice,
    a.FieldSelection: lambda n, s: f"{term(n.expression, True)}.{quote_name(n.field)}",
}


# --- clauses -------------------------------------------------------------------------------------

def _selector(node: a.Selector) -> str:
    text = term(node.expression, True)
    return text if node.alias is None else f"{text} AS {quote_name(node.alias)}"


def relation(node: Any) -> str:
    if isinstance(node, a.Relation):
        left = quote_name(node.column)
    elif isinstance(node, a.ElementRelation):
        left = f"{quote_name(node.column)}[{term(node.key)}]"
    elif isinstance(node, a.TupleRelation):
        left = "(" + ", ".join(quote_name(c) for c in node.columns) + ")"
    elif isinstance(node, a.TokenRelation):
        left = "token(" + ", ".join(quote_name(c) for c in node.columns) + ")"
    else:
        raise TypeError(f"not a relation: {node!r}")
    return f"{left} {node.operator} {_relation_value(node.value)}"


def _relation_value(value: Any) -> str:
    if isinstance(value, a.InValues):
        return f"({_items(value.items, False)})"
    return term(value)


def _where(relations) -> str:
    return " WHERE " + " AND ".join(relation(r) for r in relations)


def _ordering(node: a.Ordering) -> str:
    return f"{quote_name(node.column)} {'DESC' if node.descending else 'ASC'}"


def _using(ttl: Any, timestamp: Any) -> str:
    options = []
    if ttl is not None:
        options.append(f"TTL {term(ttl)}")
    if timestamp is not None:
        options.append(f"TIMESTAMP {term(timestamp)}")
    return " USING " + " AND ".join(options) if options else ""


def _condition(node: a.Condition) -> str:
    left = quote_name(node.column)
    if node.key is not None:
        left += f"[{term(node.key)}]"
    elif node.field is not None:
        left += "." + quote_name(node.field)
    return f"{left} {node.operator} {_relation_value(node.value)}"


def _conditions(if_exists: bool, conditions) -> str:
    if if_exists:
        return " IF EXISTS"
    if conditions:
        return " IF " + " AND ".join(_condition(c) for c in conditions)
    return ""


def _property(node: a.Property) -> str:
    return f"{quote_name(node.name)} = {term(node.value)}"


def _properties(properties) -> str:
    return " AND ".join(_property(p) for p in properties)


def _if_not_exists(flag: bool) -> str:
    return " IF NOT EXISTS" if flag else ""


def _if_exists(flag: bool) -> str:
    return " IF EXISTS" if flag else ""


def _column_definition(node: a.ColumnDefinition) -> str:
    return f"{quote_name(node.name)} {cql_type(node.type)}" + (" STATIC" if node.static else "")


def _names(names) -> str:
    return ", ".join(quote_name(n) for n in names)


# --- statements ----------------------------------------------------------------------------------

def _select(node: a.Select) -> str:
    head = "SELECT " + ("JSON " if node.json else "") + ("DISTINCT " if node.distinct else "")
    selection = ", ".join(_selector(s) for s in node.selectors) or "*"
    if (node.json or node.distinct) and re.match(r"as\b", selection):
        selection = '"as"' + selection[2:]      # else `SELECT DISTINCT as` reads as a column "distinct"
    text = f"{head}{selection} FROM {qualified(node.table)}"
    if node.where:
        text += _where(node.where)
    if node.group_by:
        text += " GROUP BY " + ", ".join(term(g, True) for g in node.group_by)
    if node.order_by:
        text += " ORDER BY " + ", ".join(_ordering(o) for o in node.order_by)
    if node.per_partition_limit is not None:
        text += f" PER PARTITION LIMIT {term(node.per_partition_limit)}"
    if node.limit is not None:
        text += f" LIMIT {term(node.limit)}"
    if node.allow_filtering:
        text += " ALLOW FILTERING"
    return text


def _insert(node: a.Insert) -> str:
    return (f"INSERT INTO {qualified(node.table)} ({_names(node.columns)})"
            f" VALUES ({_items(node.values, False)})"
            + _if_not_exists(node.if_not_exists) + _using(node.ttl, node.timestamp))


def _insert_json(node: a.InsertJson) -> str:
    return (f"INSERT INTO {qualified(node.table)} JSON {term(node.json)}"
            + (" DEFAULT UNSET" if node.default_unset else "")
            + _if_not_exists(node.if_not_exists) + _using(node.ttl, node.timestamp))


def _assignment(node: a.Assignment) -> str:
    column = quote_name(node.column)
    if isinstance(node, a.SetValue):
        return f"{column} = {term(node.value)}"
    if isinstance(node, a.AddTo):
        return f"{column} = {column} + {term(node.value)}"
    if isinstance(node, a.RemoveFrom):
        return f"{column} = {column} - {term(node.value)}"
    if isinstance(node, a.Prepend):
        return f"{column} = {term(node.value)} + {column}"
    if isinstance(node, a.SetElement):
        return f"{column}[{term(node.key)}] = {term(node.value)}"
    if isinstance(node, a.SetField):
        return f"{column}.{quote_name(node.field)} = {term(node.value)}"
    raise TypeError(f"not an assignment: {node!r}")


def _update(node: a.Update) -> str:
    return (f"UPDATE {qualified(node.table)}{_using(node.ttl, node.timestamp)} SET "
            + ", ".join(_assignment(s) for s in node.assignments)
            + _where(node.where) + _conditions(node.if_exists, node.conditions))


def _deletion(node: a.Deletion) -> str:
    if node.key is not None:
        return f"{quote_name(node.column)}[{term(node.key)}]"
    if node.field is not None:
        return f"{quote_name(node.column)}.{quote_name(node.field)}"
    return quote_name(node.column)


def _delete(node: a.Delete) -> str:
    columns = ", ".join(_deletion(d) for d in node.columns)
    return ("DELETE " + (columns + " " if columns else "") + f"FROM {qualified(node.table)}"
            + _using(None, node.timestamp) + _where(node.where)
            + _conditions(node.if_exists, node.conditions))


def _batch(node: a.Batch) -> str:
    kind = "" if node.kind == a.LOGGED else node.kind + " "
    inner = "".join(to_cql(s) + "; " for s in node.statements)
    return f"BEGIN {kind}BATCH{_using(node.ttl, node.timestamp)} {inner}APPLY BATCH"


def _create_table(node: a.CreateTable) -> str:
    inline = (len(node.partition_key) == 1 and not node.clustering_columns
              and any(c.name == node.partition_key[0] for c in node.columns))
    elements = []
    for column in node.columns:
        text = _column_definition(column)
        if inline and column.name == node.partition_key[0]:
            text += " PRIMARY KEY"
        elements.append(text)
    if node.partition_key and not inline:
        partition = (quote_name(node.partition_key[0]) if len(node.partition_key) == 1
                     else f"({_names(node.partition_key)})")
        key = [partition, *map(quote_name, node.clustering_columns)]
        elements.append("PRIMARY KEY (" + ", ".join(key) + ")")
    options = []
    if node.clustering_order:
        options.append("CLUSTERING ORDER BY (" + ", ".join(_ordering(o) for o in node.clustering_order) + ")")
    if node.compact_storage:
        options.append("COMPACT STORAGE")
    options.extend(_property(p) for p in node.options)
    return (f"CREATE TABLE{_if_not_exists(node.if_not_exists)} {qualified(node.table)} ("
            + ", ".join(elements) + ")" + (" WITH " + " AND ".join(options) if options else ""))


def _alter_table(node: Any, instruction: str) -> str:
    return f"ALTER TABLE{_if_exists(node.if_exists)} {qualified(node.table)} {instruction}"


def _alter_table_add(node: a.AlterTableAdd) -> str:
    columns = ", ".join(_column_definition(c) for c in node.columns)
    if len(node.columns) != 1:
        columns = f"({columns})"
    return _alter_table(node, f"ADD{_if_not_exists(node.if_column_not_exists)} {columns}")


def _alter_table_drop(node: a.AlterTableDrop) -> str:
    columns = _names(node.columns) if len(node.columns) == 1 else f"({_names(node.columns)})"
    text = f"DROP{_if_exists(node.if_column_exists)} {columns}"
    if node.timestamp is not None:
        text += f" USING TIMESTAMP {term(node.timestamp)}"
    return _alter_table(node, text)


def _renames(renames) -> str:
    return " AND ".join(f"{quote_name(old)} TO {quote_name(new)}" for old, new in renames)


def _create_index(node: a.CreateIndex) -> str:
    targets = ", ".join(quote_name(t.column) if t.kind is None else f"{t.kind}({quote_name(t.column)})"
                        for t in node.targets)
    text = ("CREATE " + ("CUSTOM " if node.custom else "") + "INDEX" + _if_not_exists(node.if_not_exists)
            + ("" if node.name is None else " " + quote_name(node.name))
            + f" ON {qualified(node.table)} ({targets})")
    if node.using is not None:
        text += " USING " + string_literal(node.using)
    if node.options:
        text += " WITH " + _properties(node.options)
    return text


def _create_type(node: a.CreateType) -> str:
    fields = ", ".join(f"{quote_name(f.name)} {cql_type(f.type)}" for f in node.fields)
    return f"CREATE TYPE{_if_not_exists(node.if_not_exists)} {qualified(node.name, 'type_ident')} ({fields})"


def _alter_type(node: Any, instruction: str) -> str:
    return f"ALTER TYPE{_if_exists(node.if_exists)} {qualified(node.name, 'type_ident')} {instruction}"


_ROLE_OPTION_KEYWORDS = {"password": "PASSWORD", "hashed_password": "HASHED PASSWORD", "login": "LOGIN",
                         "superuser": "SUPERUSER", "options": "OPTIONS"}


def _role_options(options) -> str:
    if not options:
        return ""
    return " WITH " + " AND ".join(f"{_ROLE_OPTION_KEYWORDS[o.name]} = {term(o.value)}" for o in options)


def _user(node: Any, verb: str, condition: str) -> str:
    text = f"{verb} USER{condition} {string_literal(node.name)}"
    if node.password is not None:
        text += " WITH PASSWORD " + string_literal(node.password)
    if node.superuser is not None:
        text += " SUPERUSER" if node.superuser else " NOSUPERUSER"
    return text


def _describe(node: a.Describe) -> str:
    target, name = node.target, node.name
    if target == "NAME":
        text = ("DESCRIBE " + qualified(name, "describe_name") if name.keyspace is None
                else "DESCRIBE " + qualified(name))
    elif target in ("KEYSPACE", "ONLY KEYSPACE"):
        text = f"DESCRIBE {target}" + ("" if name is None else " " + quote_name(name.name))
    elif target == "TYPE":
        text = "DESCRIBE TYPE " + qualified(name, "type_ident")
    elif target in ("FUNCTION", "AGGREGATE"):
        text = f"DESCRIBE {target} " + _function_name(name.name, name.keyspace, False)
    elif name is not None:
        text = f"DESCRIBE {target} {qualified(name)}"
    else:
        text = f"DESCRIBE {target}"
    return text + (" WITH INTERNALS" if node.with_internals else "")


_STATEMENTS: dict[type, Callable[[Any], str]] = {
    a.Select: _select,
    a.Insert: _insert,
    a.InsertJson: _insert_json,
    a.Update: _update,
    a.Delete: _delete,
    a.Batch: _batch,
    a.Use: lambda n: f"USE {quote_name(n.keyspace)}",
    a.Truncate: lambda n: f"TRUNCATE {qualified(n.table)}",
    a.CreateKeyspace: lambda n: (f"CREATE KEYSPACE{_if_not_exists(n.if_not_exists)} {quote_name(n.name)}"
                                 f" WITH {_properties(n.options)}"),
    a.AlterKeyspace: lambda n: (f"ALTER KEYSPACE{_if_exists(n.if_exists)} {quote_name(n.name)}"
                                f" WITH {_properties(n.options)}"),
    a.DropKeyspace: lambda n: f"DROP KEYSPACE{_if_exists(n.if_exists)} {quote_name(n.name)}",
    a.CreateTable: _create_table,
    a.AlterTableAdd: _alter_table_add,
    a.AlterTableDrop: _alter_table_drop,
    a.AlterTableRename: lambda n: _alter_table(
        n, f"RENAME{_if_exists(n.if_column_exists)} {_renames(n.renames)}"),
    a.AlterTableWith: lambda n: _alter_table(n, f"WITH {_properties(n.options)}"),
    a.AlterTableAlterType: lambda n: _alter_table(n, f"ALTER {quote_name(n.column)} TYPE {cql_type(n.type)}"),
    a.AlterTableDropCompactStorage: lambda n: _alter_table(n, "DROP COMPACT STORAGE"),
    a.DropTable: lambda n: f"DROP TABLE{_if_exists(n.if_exists)} {qualified(n.table)}",
    a.CreateIndex: _create_index,
    a.DropIndex: lambda n: f"DROP INDEX{_if_exists(n.if_exists)} {qualified(n.name)}",
    a.CreateType: _create_type,
    a.AlterTypeAdd: lambda n: _alter_type(n, f"ADD{_if_not_exists(n.if_field_not_exists)} "
                                             f"{quote_name(n.field.name)} {cql_type(n.field.type)}"),
    a.AlterTypeRename: lambda n: _alter_type(
        n, f"RENAME{_if_exists(n.if_field_exists)} {_renames(n.renames)}"),
    a.AlterTypeAlterField: lambda n: _alter_type(n, f"ALTER {quote_name(n.field)} TYPE {cql_type(n.type)}"),
    a.DropType: lambda n: f"DROP TYPE{_if_exists(n.if_exists)} {qualified(n.name, 'type_ident')}",
    a.CreateRole: lambda n: (f"CREATE ROLE{_if_not_exists(n.if_not_exists)} {quote_name(n.name)}"
                             + _role_options(n.options)),
    a.AlterRole: lambda n: (f"ALTER ROLE{_if_exists(n.if_exists)} {quote_name(n.name)}"
                            + _role_options(n.options)),
    a.DropRole: lambda n: f"DROP ROLE{_if_exists(n.if_exists)} {quote_name(n.name)}",
    a.ListRoles: lambda n: ("LIST ROLES" + ("" if n.of is None else " OF " + quote_name(n.of))
                            + ("" if n.recursive else " NORECURSIVE")),
    a.CreateUser: lambda n: _user(n, "CREATE", _if_not_exists(n.if_not_exists)),
    a.AlterUser: lambda n: _user(n, "ALTER", _if_exists(n.if_exists)),
    a.DropUser: lambda n: f"DROP USER{_if_exists(n.if_exists)} {string_literal(n.name)}",
    a.ListUsers: lambda n: "LIST USERS",
    a.GrantRole: lambda n: f"GRANT {quote_name(n.role)} TO {quote_name(n.grantee)}",
    a.RevokeRole: lambda n: f"REVOKE {quote_name(n.role)} FROM {quote_name(n.revokee)}",
    a.Describe: _describe,
    a.Explain: lambda n: "EXPLAIN " + to_cql(n.statement),
}

_OTHERS: dict[type, Callable[[Any], str]] = {
    a.CQLType: cql_type,
    a.QualifiedName: qualified,
    a.Selector: _selector,
    a.Ordering: _ordering,
    a.Property: _property,
    a.ColumnDefinition: _column_definition,
    a.Condition: _condition,
    a.Deletion: _deletion,
    a.InValues: lambda n: f"({_items(n.items, False)})",
}


def to_cql(node: a.Node) -> str:
    """Canonical CQL for a statement, clause, relation, term or type node."""
    kind = type(node)
    if kind in _STATEMENTS:
        return _STATEMENTS[kind](node)
    if kind in _TERMS:
        return term(node, isinstance(node, a.Selectable))
    if kind in _OTHERS:
        return _OTHERS[kind](node)
    if isinstance(node, a.Assignment):
        return _assignment(node)
    if isinstance(node, (a.Relation, a.ElementRelation, a.TupleRelation, a.TokenRelation)):
        return relation(node)
    raise TypeError(f"cannot print {kind.__name__} as CQL")
