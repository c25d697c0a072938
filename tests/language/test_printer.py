"""The printer: hand-built ASTs print as canonical CQL that parses back to the same AST, names are
quoted exactly when they must be, and any node prints on its own."""
import pytest

import cqlpy
from cqlpy.language import ast as a
from cqlpy.language.printer import quote_name, string_literal, to_cql

T = a.QualifiedName(None, "t")


def i(text):
    return a.Constant("integer", text)


def s(text):
    return a.Constant("string", text)


@pytest.mark.parametrize("name, rule, expected", [
    ("abc", "ident", "abc"),
    ("a_1", "ident", "a_1"),
    ("Abc", "ident", '"Abc"'),
    ("1abc", "ident", '"1abc"'),
    ("a b", "ident", '"a b"'),
    ('a"b', "ident", '"a""b"'),
    ("", "ident", '""'),
    ("select", "ident", '"select"'),
    ("key", "ident", "key"),
    ("ttl", "ident", "ttl"),
    ("ttl", "function_ident", '"ttl"'),
    ("count", "function_ident", '"count"'),
    ("blob", "function_ident", "blob"),
    ("int", "type_ident", '"int"'),
    ("key", "type_ident", "key"),
    ("address", "type_ident", "address"),
    ("tables", "describe_name", '"tables"'),
    ("type", "describe_name", "type"),
])
def test_quote_name(name, rule, expected):
    assert quote_name(name, rule) == expected


def test_string_literal():
    assert string_literal("it's") == "'it''s'"
    assert string_literal("") == "''"


def round_trip(statement, text):
    assert statement.to_cql() == text
    assert cqlpy.parse_one(text) == statement


def test_hand_built_select():
    statement = a.Select(
        a.QualifiedName("Ks", "t"),
        (a.Selector(a.ColumnRef("Name"), "n"), a.Selector(a.FunctionCall("ttl", (a.ColumnRef("v"),))),
         a.Selector(a.WritetimeOrTTL("ttl", "v")), a.Selector(a.FunctionCall("count", (i("1"),)))),
        (a.Relation("k", a.EQ, a.BindMarker(0)), a.Relation("c", a.IN, a.InValues((i("1"), i("2")))),
         a.TupleRelation(("c1", "c2"), a.GT, a.TupleLiteral((i("1"), i("2")))),
         a.TokenRelation(("k",), a.LTE, a.BindMarker(1, "t"))),
        order_by=(a.Ordering("c", True),), limit=i("5"), allow_filtering=True)
    round_trip(statement, 'SELECT "Name" AS n, "ttl"(v), ttl(v), count(1) FROM "Ks".t WHERE k = ? '
                          "AND c IN (1, 2) AND (c1, c2) > (1, 2) AND token(k) <= :t ORDER BY c DESC "
                          "LIMIT 5 ALLOW FILTERING")


def test_count_as_a_term_function_is_quoted():
    statement = a.Select(T, where=(a.Relation("k", a.EQ, a.FunctionCall("count", (i("1"),))),))
    round_trip(statement, 'SELECT * FROM t WHERE k = "count"(1)')


def test_hand_built_modifications():
    round_trip(a.Insert(T, ("k", "v"), (i("1"), s("x")), True, i("10")),
               "INSERT INTO t (k, v) VALUES (1, 'x') IF NOT EXISTS USING TTL 10")
    round_trip(a.Update(T, (a.AddTo("n", i("-1")), a.Prepend("l", a.ListLiteral((i("1"),))),
                            a.SetElement("m", s("k"), a.NULL), a.SetField("u", "f", i("2"))),
                        (a.Relation("k", a.EQ, i("1")),),
                        (a.Condition("v", a.IN, a.BindMarker(0), key=s("a")),), timestamp=i("3")),
               "UPDATE t USING TIMESTAMP 3 SET n = n + -1, l = [1] + l, m['k'] = NULL, u.f = 2 "
               "WHERE k = 1 IF v['a'] IN ?")
    round_trip(a.Delete(T, (a.Relation("k", a.EQ, i("1")),), (a.Deletion("m", key=s("k")),), if_exists=True),
               "DELETE m['k'] FROM t WHERE k = 1 IF EXISTS")
    round_trip(a.Batch((a.Insert(T, ("k",), (i("1"),)),), a.UNLOGGED),
               "BEGIN UNLOGGED BATCH INSERT INTO t (k) VALUES (1); APPLY BATCH")


def test_hand_built_create_table():
    int_ = a.CQLType("int")
    table = a.CreateTable(
        a.QualifiedName("ks", "t"),
        (a.ColumnDefinition("k", int_), a.ColumnDefinition("c", int_),
         a.ColumnDefinition("m", a.CQLType("map", (a.CQLType("text"), a.CQLType("list", (int_,), True)))),
         a.ColumnDefinition("s", a.CQLType("Addr", frozen=True, keyspace="ks"), True)),
        ("k",), ("c",), (a.Ordering("c", True),),
        (a.Property("comment", s("x")), a.Property("compaction", a.MapLiteral(((s("class"), s("L")),)))))
    round_trip(table, "CREATE TABLE ks.t (k int, c int, m map<text, frozen<list<int>>>, "
                      's frozen<ks."Addr"> STATIC, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC) '
                      "AND comment = 'x' AND compaction = {'class': 'L'}")


def test_user_type_named_like_a_native_type_prints_quoted():
    assert a.CQLType("text", keyspace="ks").to_cql() == 'ks."text"'


@pytest.mark.parametrize("node, text", [
    (a.CQLType("map", (a.CQLType("text"), a.CQLType("tuple", (a.CQLType("int"), a.CQLType("uuid"))))),
     "map<text, tuple<int, uuid>>"),
    (a.Relation("k", a.IS_NOT, a.NULL), "k IS NOT NULL"),
    (a.ElementRelation("m", s("a"), a.GTE, i("1")), "m['a'] >= 1"),
    (a.Condition("u", a.EQ, i("1"), field="f"), "u.f = 1"),
    (a.SetValue("v", a.UserTypeLiteral((("Street", s("x")),))), "v = {\"Street\": 'x'}"),
    (a.Selector(a.Cast(a.ColumnRef("v"), a.CQLType("text")), "x"), "CAST(v AS text) AS x"),
    (a.TypeHint(a.CQLType("int"), a.BindMarker(0)), "(int) ?"),
    (a.QualifiedName("ks", "T"), 'ks."T"'),
    (a.Property("durable_writes", a.Constant("boolean", "false")), "durable_writes = false"),
    (a.Ordering("c"), "c ASC"),
    (a.InValues(()), "()"),
    (a.Constant("float", "-Infinity"), "-Infinity"),
])
def test_any_node_prints_on_its_own(node, text):
    assert node.to_cql() == text == to_cql(node)


def test_printing_something_else_is_a_type_error():
    with pytest.raises(TypeError):
        to_cql("SELECT")
    with pytest.raises(TypeError):
        a.Relation("k", a.EQ, object()).to_cql()


def test_select_distinct_of_a_column_named_as_stays_unambiguous():
    round_trip(a.Select(T, (a.Selector(a.ColumnRef("as")),), distinct=True), 'SELECT DISTINCT "as" FROM t')


def test_every_statement_class_has_a_printer():
    import inspect

    from cqlpy.language import printer
    bases = {a.Statement, a.Modification}
    statements = {cls for cls in vars(a).values()
                  if inspect.isclass(cls) and issubclass(cls, a.Statement) and cls not in bases}
    assert statements <= set(printer._STATEMENTS)
