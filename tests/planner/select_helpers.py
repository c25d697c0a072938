"""Test helpers for the SELECT planner tests: a catalog built from CQL DDL text."""
from __future__ import annotations

import cqlpy
from cqlpy.engine.murmur3 import token as murmur3_token
from cqlpy.language import ast
from cqlpy.planner import functions as F
from cqlpy.schema.catalog import Catalog
from cqlpy.schema.model import ColumnDef

F.set_token_function(murmur3_token)


def catalog_with(*ddl: str, keyspace: str = "ks") -> Catalog:
    """A catalog holding keyspace ``ks`` and the tables / indexes of the given DDL statements."""
    cat = Catalog()
    cat.create_keyspace(keyspace, {"class": "SimpleStrategy", "replication_factor": 1})
    for text in ddl:
        st = cqlpy.parse_one(text)
        if isinstance(st, ast.ddl.CreateTable):
            cols = [ColumnDef(c.name, cat.parse_type(keyspace, c.type), c.static) for c in st.columns]
            order = [(o.column, "desc" if o.descending else "asc") for o in st.clustering_order]
            cat.create_table(keyspace, st.table.name, cols, st.partition_key, st.clustering_columns,
                             order)
        elif isinstance(st, ast.ddl.CreateIndex):
            tgt = st.targets[0]
            kind = tgt.kind.lower() if tgt.kind else "simple"
            cat.create_index(keyspace, st.table.name, st.name, tgt.column, kind)
        else:
            raise ValueError(text)
    return cat
