"""The ring: partitioner, token metadata, replication, snitch, gossip, failure detection, messaging."""
