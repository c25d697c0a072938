"""The WITH properties of DDL statements: AST property nodes as Python values, keyspace properties.

``property_values(properties)`` turns ``language.ast.Property`` nodes into a dict by lower-cased
name; ``parse_keyspace_properties(values)`` picks (replication, durable_writes) out of it.  Table
options are validated by ``table_options.TableOptions``; the catalog applies both.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from cqlpy.errors import SyntaxException
from cqlpy.schema.table_options import bool_option

KEYSPACE_PROPERTIES = frozenset({"replication", "durable_writes"})


def parse_keyspace_properties(props: Mapping[str, Any]) -> tuple[dict[str, Any] | None, bool | None]:
    """(replication, durable_writes) from a keyspace's WITH properties; unknown -> SyntaxException."""
    replication, durable = None, None
    for name, value in props.items():
        key = name.lower()
        if key not in KEYSPACE_PROPERTIES:
            raise SyntaxException(f"Unknown property '{name}'")
        if key == "replication":
            if not isinstance(value, Mapping):
                raise SyntaxException("Invalid value for property 'replication'. It should be a map.")
            replication = dict(value)
        else:
            durable = bool_option(key, value)
    return replication, durable


def property_values(properties: Iterable[Any]) -> dict[str, Any]:
    """The WITH properties of a DDL statement (``language.ast.Property`` nodes) as Python values:
    strings, ints, floats, bools and dicts of them (a hex constant is bytes as a map value, for
    ``map<text, blob>`` options such as ``extensions``; elsewhere its text, as Cassandra reads a
    property constant); property names lower-cased.  A property given twice -> SyntaxException,
    as Cassandra's PropertyDefinitions does."""
    result: dict[str, Any] = {}
    for prop in properties:
        name = prop.name.lower()
        if name in result:
            raise SyntaxException(f"Multiple definition for property '{name}'")
        result[name] = _term_value(prop.value, name)
    return result


def _term_value(term: Any, name: str, in_map: bool = False) -> Any:
    # duck-typed over language.ast's MapLiteral (entries), SetLiteral (items), Constant (kind, text)
    if hasattr(term, "entries"):
        return {str(_term_value(k, name)): _term_value(v, name, True) for k, v in term.entries}
    if type(term).__name__ == "SetLiteral" and not term.items:
        return {}
    if hasattr(term, "kind") and hasattr(term, "text"):
        if term.kind == "integer":
            return int(term.text)
        if term.kind == "float":
            return float(term.text)
        if term.kind == "boolean":
            return term.text.lower() == "true"
        if term.kind == "null":
            raise SyntaxException(f"Invalid null value for property '{name}'")
        if term.kind == "hex" and in_map:
            try:
                return bytes.fromhex(term.text[2:])
            except ValueError:
                raise SyntaxException(f"Invalid value for property '{name}'") from None
        return term.text
    raise SyntaxException(f"Invalid value for property '{name}'")
