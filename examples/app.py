"""A small Python app on the embedded database: users, their posts, and page-view counters.

    python examples/app.py [data folder]        (default: a fresh temporary folder)

It opens the database with ``cqlpy.connect(path)`` the way an app opens sqlite3 -- the rest is the
cassandra-driver Session API: prepared statements, ``?`` and named parameters, lightweight
transactions (IF NOT EXISTS), TTL, counters, paging with a fetch size, and named-tuple rows.
Run it twice on the same folder: the data is still there (users are not registered twice).
"""
from __future__ import annotations

import datetime
import shutil
import sys
import tempfile
import uuid

import cqlpy

SCHEMA = [
    "CREATE KEYSPACE IF NOT EXISTS blog WITH replication = "
    "{'class': 'SimpleStrategy', 'replication_factor': 1}",
    "CREATE TABLE IF NOT EXISTS blog.users (username text PRIMARY KEY, email text, joined timestamp)",
    # one partition per user; the newest post first
    "CREATE TABLE IF NOT EXISTS blog.posts (username text, posted timeuuid, title text, body text, "
    "tags set<text>, PRIMARY KEY (username, posted)) WITH CLUSTERING ORDER BY (posted DESC)",
    "CREATE TABLE IF NOT EXISTS blog.views (page text PRIMARY KEY, hits counter)",
    "CREATE TABLE IF NOT EXISTS blog.sessions (id uuid PRIMARY KEY, username text)",
]


def register(session, username: str, email: str) -> bool:
    """A compare-and-set: only the first registration of a name is applied."""
    rs = session.execute(
        "INSERT INTO users (username, email, joined) VALUES (?, ?, ?) IF NOT EXISTS",
        (username, email, datetime.datetime(2024, 1, 1)))
    return rs.one().applied


def run(path: str, out=print) -> None:
    with cqlpy.connect(path) as session:
        for statement in SCHEMA:
            session.execute(statement)
        session.execute("USE blog")

        for name, email in [("ann", "ann@example.com"), ("bob", "bob@example.com"),
                            ("ann", "someone-else@example.com")]:
            out(f"register {name}: {'ok' if register(session, name, email) else 'name taken'}")

        add_post = session.prepare(
            "INSERT INTO posts (username, posted, title, body, tags) VALUES (?, now(), ?, ?, ?)")
        for i in range(1, 8):
            session.execute(add_post, ("ann", f"Post {i}", f"Body of post {i}", {"cassandra", f"n{i % 3}"}))
        session.execute(add_post, {"username": "bob", "title": "Hello", "body": "Hi all", "tags": set()})

        # newest first, three rows per page, as a driver pages a big partition
        rs = session.execute("SELECT title, tags FROM posts WHERE username = ?", ("ann",), fetch_size=3)
        out("ann's posts, newest first: " + ", ".join(row.title for row in rs))

        row = session.execute("SELECT email, joined FROM users WHERE username = %s", ("ann",)).one()
        out(f"ann's email: {row.email} (joined {row.joined:%Y-%m-%d})")

        count = session.execute("SELECT count(*) FROM posts WHERE username = 'ann'").one().count
        out(f"ann has {count} posts")

        hit = session.prepare("UPDATE views SET hits = hits + 1 WHERE page = ?")
        for page in ["/", "/", "/about", "/"]:
            session.execute(hit, (page,))
        for row in session.execute("SELECT page, hits FROM views WHERE page IN ('/', '/about')"):
            out(f"views of {row.page}: {row.hits}")

        token = uuid.uuid4()
        session.execute("INSERT INTO sessions (id, username) VALUES (?, ?) USING TTL 3600", (token, "bob"))
        remaining = session.execute("SELECT ttl(username) FROM sessions WHERE id = ?", (token,)).one()[0]
        out(f"bob's session expires in about {round(remaining, -2):.0f} s")

        session.execute("DELETE FROM posts WHERE username = 'bob'")
        out(f"bob's posts after delete: {session.execute('SELECT * FROM posts WHERE username = ?', ('bob',)).one()}")
        out(f"statement cache: {session.cache_stats()['hits']} hits, {session.cache_stats()['misses']} misses")


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        run(argv[1])
        return 0
    folder = tempfile.mkdtemp(prefix="cqlpy-app-")
    try:
        run(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
