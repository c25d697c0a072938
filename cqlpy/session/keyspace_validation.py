"""CREATE / ALTER KEYSPACE replication checked against the ring, with Cassandra's client warnings.

Cassandra validates a keyspace's replication against the nodes it knows
(``AbstractReplicationStrategy.validateReplicationStrategy``): NetworkTopologyStrategy refuses a
datacenter no node is in ("Unrecognized strategy option {dc9} passed to NetworkTopologyStrategy
for keyspace ks", ConfigurationException), and a replication factor above the nodes available
is accepted with a client warning ("Your replication factor 3 for keyspace ks is higher than the
number of nodes 1 for datacenter dc1"; for SimpleStrategy without the datacenter part), which the
native protocol carries in the response's warning flag.

``check(plan, database)`` runs before the catalog applies the statement and returns the warnings.
The nodes come from ``database.ring_view()`` -> (Topology, local datacenter) on a ring node;
an embedded or single-node database is one node in datacenter1/rack1, as a one-node Cassandra.
On a ring, the catalog's datacenters (what NetworkTopologyStrategy's ``replication_factor``
shorthand expands to) are set to the ring's.  The checks follow Cassandra's order: a CREATE of an
existing keyspace (AlreadyExists, or nothing with IF NOT EXISTS) and an ALTER of a missing one are
left to the catalog, and so are the catalog's own option errors, which come first.
"""
from __future__ import annotations

from typing import Any

from cqlpy.language import ast
from cqlpy.schema.properties import parse_keyspace_properties, property_values
from cqlpy.schema.model import normalize_replication
from cqlpy.schema.replication_options import DEFAULT_DATACENTER, Topology, validate_replication
from cqlpy.schema.system_tables import LOCAL_SYSTEM_KEYSPACES


def check(plan: Any, database: Any) -> list[str]:
    """Validate a CREATE/ALTER KEYSPACE plan's replication; the client warnings it deserves."""
    st = getattr(plan, "statement", None)
    if not isinstance(st, (ast.CreateKeyspace, ast.AlterKeyspace)):
        return []
    replication, _durable = parse_keyspace_properties(property_values(st.options))
    if replication is None:
        return []
    catalog = database.catalog
    current = catalog.get_keyspace(st.name)
    altering = isinstance(st, ast.AlterKeyspace)
    if not altering and current is not None:
        return []                                     # CREATE of an existing keyspace
    if altering and (current is None or st.name in LOCAL_SYSTEM_KEYSPACES):
        return []                                     # the catalog refuses these
    view = getattr(database, "ring_view", None)
    topology, local_dc = view() if view is not None else (Topology.single_node(), DEFAULT_DATACENTER)
    if view is not None:
        catalog.datacenters = tuple(sorted(topology.datacenters | {local_dc}))
    normalize_replication(st.name, replication, catalog.datacenters)   # the catalog's errors first
    _stored, warnings = validate_replication(st.name, replication, topology, local_dc,
                                             current.replication if altering else None)
    return warnings
