"""The cqlpy shell: a cqlsh for the embedded database and for any CQL server (uses only the public cqlpy API)."""
