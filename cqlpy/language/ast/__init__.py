"""The CQL abstract syntax tree: frozen dataclasses with source spans, one per statement and clause.

Identifiers are stored folded (unquoted names lower-cased, quoted names as written); tuples, not
lists, so nodes hash and compare; ``span`` never takes part in equality.
"""
from .admin import (DESCRIBE_TARGETS, AlterRole, AlterUser, CreateRole, CreateUser, Describe, DropRole,
                    DropUser, Explain, GrantRole, ListRoles, ListUsers, RevokeRole, Truncate, Use)
from .base import Node, Property, QualifiedName, Span, Statement
from .cqltype import COLLECTION_TYPES, NATIVE_TYPES, CQLType, native
from .ddl import (INDEX_ENTRIES, INDEX_FULL, INDEX_KEYS, INDEX_VALUES, AlterKeyspace, AlterTableAdd,
                  AlterTableAlterType, AlterTableDrop, AlterTableDropCompactStorage, AlterTableRename,
                  AlterTableWith, AlterTypeAdd, AlterTypeAlterField, AlterTypeRename, ColumnDefinition,
                  CreateIndex, CreateKeyspace, CreateTable, CreateType, DropIndex, DropKeyspace,
                  DropTable, DropType, FieldDefinition, IndexTarget)
from .dml import (COUNTER, LOGGED, UNLOGGED, AddTo, Assignment, Batch, Condition, Delete, Deletion,
                  Insert, InsertJson, Modification, Prepend, RemoveFrom, SetElement, SetField, SetValue,
                  Update)
from .query import (ColumnRef, CountRows, ElementSelection, FieldSelection, Ordering, Select, Selectable,
                    Selector, SliceSelection, WritetimeOrTTL)
from .relations import (COMPARISON_OPERATORS, CONTAINS, CONTAINS_KEY, EQ, GT, GTE, IN, IS_NOT, LIKE, LT,
                        LTE, NEQ, ElementRelation, InValues, Relation, TokenRelation, TupleRelation)
from .terms import (CONSTANT_KINDS, NULL, BindMarker, Cast, Constant, FunctionCall, ListLiteral,
                    MapLiteral, SetLiteral, Term, TupleLiteral, TypeHint, UserTypeLiteral)
from .walk import bind_markers, iter_nodes

__all__ = [name for name, value in globals().items()
           if not name.startswith("_") and not isinstance(value, type(base))]
