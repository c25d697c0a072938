"""Sessions: Session, ResultSet, prepared statements, paging, and the plan executor over a storage backend."""
