"""CQL types, value codecs (native protocol and order-preserving key encoding), the keyspace/table model and the catalog."""
