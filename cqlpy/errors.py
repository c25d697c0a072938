"""One exception hierarchy for cqlpy; every class carries its native-protocol error code.

The server encodes any CQLError from its class alone (``code`` plus the extra fields the protocol
defines for that code), and the shell prints the class names cqlsh users know.  Validation errors
(0x2xxx) and execution errors (0x1xxx) have separate bases, as in Cassandra.
"""
from __future__ import annotations

from typing import ClassVar


class CQLError(Exception):
    """Root of every error cqlpy raises on purpose."""

    code: ClassVar[int] = 0x0000

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# --- errors that are neither validation nor execution -------------------------------------------

class ServerError(CQLError):
    """Something went wrong inside the server (a bug, or storage that cannot be read)."""

    code = 0x0000


class ProtocolError(CQLError):
    """A frame that breaks the native protocol."""

    code = 0x000A


class AuthenticationFailed(CQLError):
    code = 0x0100


# --- execution errors (0x1xxx) ------------------------------------------------------------------

class RequestExecutionError(CQLError):
    """A valid request that could not be carried out."""


class Unavailable(RequestExecutionError):
    """Too few live replicas to satisfy the consistency level."""

    code = 0x1000

    def __init__(self, message: str = "", consistency: str = "ONE", required: int = 1,
                 alive: int = 0) -> None:
        super().__init__(message or f"Cannot achieve consistency level {consistency}")
        self.consistency, self.required, self.alive = consistency, required, alive


class Overloaded(RequestExecutionError):
    code = 0x1001


class IsBootstrapping(RequestExecutionError):
    code = 0x1002


class TruncateError(RequestExecutionError):
    code = 0x1003


class WriteTimeout(RequestExecutionError):
    code = 0x1100

    def __init__(self, message: str = "", consistency: str = "ONE", received: int = 0,
                 block_for: int = 1, write_type: str = "SIMPLE") -> None:
        super().__init__(message or f"Operation timed out - received only {received} responses.")
        self.consistency, self.received, self.block_for = consistency, received, block_for
        self.write_type = write_type


class ReadTimeout(RequestExecutionError):
    code = 0x1200

    def __init__(self, message: str = "", consistency: str = "ONE", received: int = 0,
                 block_for: int = 1, data_present: bool = False) -> None:
        super().__init__(message or f"Operation timed out - received only {received} responses.")
        self.consistency, self.received, self.block_for = consistency, received, block_for
        self.data_present = data_present


class ReadFailure(RequestExecutionError):
    code = 0x1300

    def __init__(self, message: str = "", consistency: str = "ONE", received: int = 0,
                 block_for: int = 1, failures: int = 1, data_present: bool = False) -> None:
        super().__init__(message or "Operation failed")
        self.consistency, self.received, self.block_for = consistency, received, block_for
        self.failures, self.data_present = failures, data_present


class FunctionFailure(RequestExecutionError):
    code = 0x1400


class WriteFailure(RequestExecutionError):
    code = 0x1500

    def __init__(self, message: str = "", consistency: str = "ONE", received: int = 0,
                 block_for: int = 1, failures: int = 1, write_type: str = "SIMPLE") -> None:
        super().__init__(message or "Operation failed")
        self.consistency, self.received, self.block_for = consistency, received, block_for
        self.failures, self.write_type = failures, write_type


# --- validation errors (0x2xxx) -----------------------------------------------------------------

class RequestValidationError(CQLError):
    """A request that is wrong as written."""


class SyntaxException(RequestValidationError):
    """Text that is not CQL.  ``line`` and ``column`` are 1-based and point at the offending token."""

    code = 0x2000

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line, self.column = line, column


class Unauthorized(RequestValidationError):
    code = 0x2100


class InvalidRequest(RequestValidationError):
    code = 0x2200


class ConfigurationException(RequestValidationError):
    code = 0x2300


class AlreadyExists(ConfigurationException):
    """CREATE of a keyspace or table that exists; ``table`` is empty for a keyspace."""

    code = 0x2400

    def __init__(self, keyspace: str, table: str = "", message: str = "") -> None:
        if not message:
            message = (f"Cannot add already existing table \"{table}\" to keyspace \"{keyspace}\""
                       if table else f"Cannot add existing keyspace \"{keyspace}\"")
        super().__init__(message)
        self.keyspace, self.table = keyspace, table


class Unprepared(RequestValidationError):
    code = 0x2500

    def __init__(self, message: str = "", statement_id: bytes = b"") -> None:
        super().__init__(message or f"Prepared query with ID {statement_id.hex()} not found")
        self.statement_id = statement_id


# --- storage errors (server errors that name a file) ---------------------------------------------

class StorageError(ServerError):
    """The storage engine cannot do what was asked (reported to clients as a server error)."""


class CorruptionError(StorageError):
    """A file on disk fails its checksum or cannot be decoded; names the file and the offset."""

    def __init__(self, path: str, offset: int | None = None, reason: str = "corrupt data") -> None:
        where = f"{path}" if offset is None else f"{path} at offset {offset}"
        super().__init__(f"Corrupted file {where}: {reason}")
        self.path, self.offset, self.reason = path, offset, reason


class DataFolderLocked(StorageError):
    """Another live process owns the data folder."""

    def __init__(self, path: str) -> None:
        super().__init__(f"Data folder {path} is in use by another cqlpy process")
        self.path = path


ERROR_CLASSES: dict[int, type[CQLError]] = {
    cls.code: cls for cls in (
        ServerError, ProtocolError, AuthenticationFailed, Unavailable, Overloaded, IsBootstrapping,
        TruncateError, WriteTimeout, ReadTimeout, ReadFailure, FunctionFailure, WriteFailure,
        SyntaxException, Unauthorized, InvalidRequest, ConfigurationException, AlreadyExists,
        Unprepared,
    )
}
"""Wire code -> class, for clients that turn an ERROR frame back into an exception."""
