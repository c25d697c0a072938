"""The log-structured storage engine: commit log, memtables, SSTables, compaction. Stores bytes; knows nothing of CQL."""
from .engine import Engine
from .murmur3 import token
from .options import EngineOptions, TableOptions
from .read_merge import Partition
from .rows import (FULL_SLICE, Cell, ComplexColumn, DeletionTime, PartitionUpdate, RangeTombstone,
                   Row, Slice)

__all__ = ["Engine", "EngineOptions", "TableOptions", "Partition", "PartitionUpdate", "Row", "Cell",
           "ComplexColumn", "DeletionTime", "RangeTombstone", "Slice", "FULL_SLICE", "token"]
