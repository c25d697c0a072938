"""CQL data types as written in DDL, type hints and CAST: native, collection, tuple and user types."""
from __future__ import annotations


from .base import Node
from .nodeclass import node_class

NATIVE_TYPES = frozenset({
    "ascii", "bigint", "blob", "boolean", "counter", "date", "decimal", "double", "duration", "float",
    "inet", "int", "smallint", "text", "time", "timestamp", "timeuuid", "tinyint", "uuid", "varchar",
    "varint",
})
COLLECTION_TYPES = frozenset({"list", "set", "map"})


@node_class
class CQLType(Node):
    """A type: ``name`` is a native type name (``int``, ``varchar`` kept as written), ``list``, ``set``,
    ``map``, ``tuple``, or the name of a user type (then ``keyspace`` may qualify it).  ``params`` are the
    element types of collections and tuples; ``frozen`` is True when written inside ``frozen<...>``."""

    name: str
    params: tuple[CQLType, ...] = ()
    frozen: bool = False
    keyspace: str | None = None

    @property
    def is_native(self) -> bool:
        return self.keyspace is None and not self.params and self.name in NATIVE_TYPES

    @property
    def is_collection(self) -> bool:
        return self.name in COLLECTION_TYPES and bool(self.params)

    @property
    def is_tuple(self) -> bool:
        return self.name == "tuple" and bool(self.params)

    @property
    def is_user_type(self) -> bool:
        return not (self.is_native or self.is_collection or self.is_tuple)

    def __str__(self) -> str:
        return self.to_cql()


def native(name: str) -> CQLType:
    """Shorthand for hand-built ASTs: ``native('int')``."""
    return CQLType(name)
