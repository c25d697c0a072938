"""Keywords: case-insensitive; Cassandra's reserved keywords are refused as unquoted names and work
quoted; every unreserved keyword works as a column, table and keyspace name and prints back unquoted."""
import pytest

import cqlpy
from cqlpy import errors
from cqlpy.language import ast as a
from cqlpy.language.grammar import keyword_terminals, keywords_of, reserved_keywords, unreserved_keywords

# apache/cassandra src/resources/org/apache/cassandra/cql3/reserved_keywords.txt (4.x / 5.0), plus
# TRUE and FALSE, which the lexer reads as booleans before it could read them as identifiers.
CASSANDRA_RESERVED = """
    ADD ALLOW ALTER AND APPLY ASC AUTHORIZE BATCH BEGIN BY COLUMNFAMILY CREATE DELETE DESC DESCRIBE
    DROP ENTRIES EXECUTE FROM FULL GRANT IF IN INDEX INFINITY INSERT INTO IS KEYSPACE LIMIT
    MATERIALIZED MODIFY NAN NORECURSIVE NOT NULL OF ON OR ORDER PRIMARY RENAME REVOKE SCHEMA SELECT
    SET TABLE TO TOKEN TRUNCATE UNLOGGED UPDATE USE USING VIEW WHERE WITH TRUE FALSE""".lower().split()

# Words the issue names explicitly as valid column, table and keyspace names.
NAMED_IN_THE_ISSUE = ["key", "value", "type", "ttl", "timestamp", "writetime", "count", "date", "time",
                      "text", "level", "status"]

RESERVED = sorted(reserved_keywords())
UNRESERVED = sorted(unreserved_keywords())


def test_reserved_keywords_are_cassandras():
    assert set(RESERVED) == set(CASSANDRA_RESERVED)


def test_keyword_tables_are_consistent():
    keywords = set(keyword_terminals().values())
    assert set(RESERVED) | set(UNRESERVED) == keywords
    assert not set(RESERVED) & set(UNRESERVED)
    assert keywords_of("type_ident") <= set(UNRESERVED)
    assert keywords_of("function_ident") - {"token"} <= set(UNRESERVED)
    assert keywords_of("describe_name") <= set(UNRESERVED)


@pytest.mark.parametrize("word", UNRESERVED + NAMED_IN_THE_ISSUE)
def test_unreserved_keywords_are_names(word):
    statements = [
        f"CREATE TABLE {word}.{word} ({word} int PRIMARY KEY, other {'text' if word != 'other' else 'int'})",
        f"SELECT {word}, x AS {word} FROM {word}.{word} WHERE {word} = 1 AND {word} IN (1, 2) "
        f"ORDER BY {word} ASC",
        f"INSERT INTO {word} ({word}) VALUES (:{word})",
        f"UPDATE {word} SET {word} = {word} + 1 WHERE {word} = 1 IF {word} = 2",
        f"DELETE {word} FROM {word} WHERE {word} = 1",
        f"USE {word}",
        f"CREATE INDEX {word} ON {word} ({word})",
    ]
    for text in statements:
        statement = cqlpy.parse_one(text)
        assert statement.to_cql() == text, text
        assert cqlpy.parse_one(statement.to_cql()) == statement
    upper = cqlpy.parse_one(f"SELECT {word.upper()} FROM t")
    assert upper.selectors[0].expression == a.ColumnRef(word)


LITERAL_WORDS = {"null", "true", "false", "nan", "infinity"}     # SELECT null ... selects a constant


@pytest.mark.parametrize("word", RESERVED)
def test_reserved_keywords_need_quotes(word):
    texts = [f"CREATE TABLE t ({word} int PRIMARY KEY)", f"INSERT INTO t ({word}) VALUES (1)",
             f"SELECT * FROM {word}", f"SELECT a FROM t WHERE {word} = 1"]
    if word in LITERAL_WORDS:
        assert isinstance(cqlpy.parse_one(f"SELECT {word} FROM t").selectors[0].expression, a.Constant)
    else:
        texts.append(f"SELECT {word} FROM t")
    for text in texts:
        with pytest.raises(errors.SyntaxException):
            cqlpy.parse_one(text)
    quoted = f'SELECT "{word}" FROM "{word}" WHERE "{word}" = 1'
    statement = cqlpy.parse_one(quoted)
    assert statement.selectors[0].expression == a.ColumnRef(word)
    assert statement.to_cql() == quoted
    assert cqlpy.parse_one(statement.to_cql()) == statement


def test_a_reserved_word_as_name_gets_a_hint():
    with pytest.raises(errors.SyntaxException) as raised:
        cqlpy.parse_one("CREATE TABLE t (k int PRIMARY KEY, order int)")
    assert "'order' is a reserved keyword" in str(raised.value)
    assert '"order"' in str(raised.value)


@pytest.mark.parametrize("text", ["select * from t", "SELECT * FROM t", "sElEcT * fRoM t"])
def test_keywords_are_case_insensitive(text):
    assert cqlpy.parse_one(text) == a.Select(a.QualifiedName(None, "t"))


def test_native_type_names_are_function_names_but_not_user_type_names():
    assert cqlpy.parse_one("SELECT blob(x) FROM t").selectors[0].expression == \
        a.FunctionCall("blob", (a.ColumnRef("x"),))
    udt = cqlpy.parse_one('CREATE TABLE t (k int PRIMARY KEY, v "int")').columns[1].type
    assert udt == a.CQLType("int")          # a quoted native name is the native type, as in Cassandra
    with pytest.raises(errors.SyntaxException):
        cqlpy.parse_one("CREATE TYPE int (a int)")
