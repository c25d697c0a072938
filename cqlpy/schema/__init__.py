"""CQL types, value codecs (native protocol and order-preserving key encoding), the keyspace/table model and the catalog."""

from cqlpy.schema.values import Duration  # noqa: F401  (re-exported: the Python value of a duration)
