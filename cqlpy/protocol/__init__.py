"""The CQL native protocol v4: frames, messages, the server, and a client.

Modules, bottom up (each imports only the ones above it):

    frame.py           the 9-byte header, body notations ([int] [string] [value] ...), lz4 bodies
    messages.py        one class per request and plain response (STARTUP, QUERY, SUPPORTED, EVENT, ...)
    error_messages.py  ERROR bodies: code, message and each code's fields, from/to cqlpy.errors
    results.py         RESULT kinds: Void, Rows (with metadata and paging), Set_keyspace, Prepared,
                       Schema_change
    framing.py         encode_message / decode_message: a message in a frame and out again
    auth.py            the authenticator hook and SASL PLAIN
    backend.py         what the server runs requests on; SessionBackend = the embedded database
    server.py          the asyncio server: connections, pipelining by stream id, limits, events
    client.py          a Session over TCP with the embedded Session's API

The node process (``cqlpy-server``) that puts a database behind the server is cqlpy/node.py.
"""
