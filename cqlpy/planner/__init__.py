"""AST + catalog -> plan: name and type binding, Cassandra's restriction rules, EXPLAIN."""
