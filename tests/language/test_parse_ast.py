"""The AST the planner consumes: node classes and fields per statement, bind-marker numbering,
identifier folding, spans, and the parse / parse_one contract."""
import dataclasses

import pytest

import cqlpy
from cqlpy import errors
from cqlpy.language import ast as a

T = a.QualifiedName(None, "t")


def one(text):
    return cqlpy.parse_one(text)


def integer(text):
    return a.Constant("integer", text)


def string(text):
    return a.Constant("string", text)


# --- parse / parse_one ---------------------------------------------------------------------------

def test_parse_returns_every_statement_in_order():
    statements = cqlpy.parse("USE ks; SELECT * FROM t; ;; INSERT INTO t (k) VALUES (1)")
    assert [type(s) for s in statements] == [a.Use, a.Select, a.Insert]


@pytest.mark.parametrize("text", ["", "   \n\t", ";", " ; ; ", "-- only a comment", "/* c */ // d"])
def test_parse_of_a_text_without_statements_is_empty(text):
    assert cqlpy.parse(text) == []


def test_parse_one_accepts_a_trailing_semicolon_and_comments():
    assert one("SELECT * FROM t;") == one("SELECT * FROM t") == one("  SELECT * FROM t ; -- done\n")


def test_parse_one_refuses_zero_or_two_statements():
    with pytest.raises(errors.SyntaxException):
        one("")
    with pytest.raises(errors.SyntaxException) as raised:
        one("SELECT * FROM t; SELECT * FROM u")
    assert (raised.value.line, raised.value.column) == (1, 18)


def test_parse_refuses_non_text():
    with pytest.raises(TypeError):
        cqlpy.parse(b"SELECT * FROM t")


def test_statements_are_statement_nodes_and_print_themselves():
    statement = one("select * from T")
    assert isinstance(statement, a.Statement)
    assert statement.to_cql() == "SELECT * FROM t" == cqlpy.language.to_cql(statement)


# --- nodes are values ----------------------------------------------------------------------------

def test_nodes_are_frozen_hashable_and_compare_without_spans():
    statement = one("SELECT a FROM t WHERE k = 1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        statement.limit = 3
    hand_built = a.Select(T, (a.Selector(a.ColumnRef("a")),), (a.Relation("k", "=", integer("1")),))
    assert statement == hand_built and hash(statement) == hash(hand_built)
    assert statement.span is not None and hand_built.span is None
    assert isinstance(statement.selectors, tuple) and isinstance(statement.where, tuple)


def test_node_classes_are_frozen_slotted_dataclasses():
    import inspect
    for name in a.__all__:
        cls = getattr(a, name)
        if inspect.isclass(cls) and issubclass(cls, a.Node):
            assert cls.__dataclass_params__.frozen and "__slots__" in vars(cls), name
            assert not hasattr(cls.__new__(cls), "__dict__"), name


def test_every_ast_module_has_a_docstring():
    for module in (a.base, a.terms, a.query, a.dml, a.ddl, a.admin, a.relations, a.cqltype, a.walk):
        assert module.__doc__ and module.__doc__.strip()


# --- identifiers ---------------------------------------------------------------------------------

def test_unquoted_identifiers_fold_to_lower_case_and_quoted_ones_keep_case():
    statement = one('SELECT Abc, "Abc", "a""b", KEY, "select" FROM Ks."MyTable"')
    assert [s.expression.name for s in statement.selectors] == ["abc", "Abc", 'a"b', "key", "select"]
    assert statement.table == a.QualifiedName("ks", "MyTable")


def test_keywords_and_function_names_are_case_insensitive():
    assert one("SeLeCt ToTimestamp(NOW()) FrOm t") == one("select totimestamp(now()) from t")
    call = one('SELECT "myFunc"(1) FROM t').selectors[0].expression
    assert call == a.FunctionCall("myFunc", (integer("1"),))


# --- bind markers --------------------------------------------------------------------------------

def markers(node):
    """Every BindMarker in a node, in field order."""
    found = []

    def walk(value):
        if isinstance(value, a.BindMarker):
            found.append(value)
        elif isinstance(value, a.Node):
            for field in dataclasses.fields(value):
                walk(getattr(value, field.name))
        elif isinstance(value, tuple):
            for item in value:
                walk(item)
    walk(node)
    return found


def test_bind_markers_are_numbered_in_text_order():
    statement = one("SELECT a, ? FROM t WHERE k = ? AND c IN ? AND d = :named AND (e, f) > (?, ?) "
                    "PER PARTITION LIMIT ? LIMIT :lim")
    found = markers(statement)
    assert sorted(m.index for m in found) == list(range(8))
    assert statement.selectors[1].expression == a.BindMarker(0)
    assert statement.where[0].value == a.BindMarker(1)
    assert statement.where[1] == a.Relation("c", "IN", a.BindMarker(2))
    assert statement.where[2].value == a.BindMarker(3, "named")
    assert statement.where[3].value == a.TupleLiteral((a.BindMarker(4), a.BindMarker(5)))
    assert statement.per_partition_limit == a.BindMarker(6)
    assert statement.limit == a.BindMarker(7, "lim")


def test_markers_follow_the_text_not_the_ast_fields():
    insert = one("INSERT INTO t (k, v) VALUES (?, ?) USING TTL ? AND TIMESTAMP ?")
    assert insert.values == (a.BindMarker(0), a.BindMarker(1))
    assert (insert.ttl, insert.timestamp) == (a.BindMarker(2), a.BindMarker(3))
    update = one("UPDATE t USING TTL ? SET v = ?, m[?] = ? WHERE k = ? IF w = ?")
    assert update.ttl == a.BindMarker(0)
    assert update.assignments == (a.SetValue("v", a.BindMarker(1)),
                                  a.SetElement("m", a.BindMarker(2), a.BindMarker(3)))
    assert update.where[0].value == a.BindMarker(4)
    assert update.conditions[0].value == a.BindMarker(5)


def test_batch_markers_are_numbered_across_its_statements():
    batch = one("BEGIN BATCH USING TIMESTAMP ? INSERT INTO t (k) VALUES (?); "
                "UPDATE t SET v = ? WHERE k = ?; DELETE FROM t WHERE k = ?; APPLY BATCH")
    assert [m.index for m in markers(batch)] == [1, 2, 3, 4, 0]      # field order: statements first
    assert batch.timestamp == a.BindMarker(0)
    assert batch.statements[2].where[0].value == a.BindMarker(4)


def test_markers_restart_for_each_statement_of_a_script():
    statements = cqlpy.parse("SELECT * FROM t WHERE k = ? AND c = ?; UPDATE t SET v = ? WHERE k = ?")
    assert [m.index for m in markers(statements[0])] == [0, 1]
    assert [m.index for m in markers(statements[1])] == [0, 1]


def test_bind_markers_of_a_statement_in_index_order():
    batch = one("BEGIN BATCH USING TIMESTAMP ? INSERT INTO t (k, v) VALUES (?, :v); APPLY BATCH")
    assert a.bind_markers(batch) == [a.BindMarker(0), a.BindMarker(1), a.BindMarker(2, "v")]
    assert a.bind_markers(one("SELECT * FROM t")) == []
    assert [type(n).__name__ for n in a.iter_nodes(one("SELECT a FROM t"))] == [
        "Select", "QualifiedName", "Selector", "ColumnRef"]


def test_named_markers_fold_like_identifiers():
    assert one('SELECT * FROM t WHERE k = :Key AND c = :"Key"').where[1].value == a.BindMarker(1, "Key")
    assert one("SELECT * FROM t WHERE k = :Key").where[0].value.name == "key"


# --- spans ---------------------------------------------------------------------------------------

def test_spans_locate_nodes_in_the_text():
    text = "SELECT a AS x FROM ks.t\nWHERE k = 1 AND c > 'v'"
    statement = one(text)
    assert statement.span == a.Span(1, 1, 0, len(text))
    relation = statement.where[1]
    assert relation.span.line == 2 and text[relation.span.start:relation.span.end] == "c > 'v'"
    assert text[relation.value.span.start:relation.value.span.end] == "'v'"
    selector = statement.selectors[0]
    assert text[selector.span.start:selector.span.end] == "a AS x"
    assert text[statement.table.span.start:statement.table.span.end] == "ks.t"


def test_spans_of_relations_start_at_their_left_side():
    text = "SELECT * FROM t WHERE (c1, c2) > (1, 2) AND token(k) > 3"
    tuple_relation, token_relation = one(text).where
    assert text[tuple_relation.span.start:tuple_relation.span.end] == "(c1, c2) > (1, 2)"
    assert text[token_relation.span.start:token_relation.span.end] == "token(k) > 3"


def test_spans_in_a_script_are_absolute():
    text = "USE ks;\n\n  SELECT *\n  FROM t WHERE k = 1;"
    use, select = cqlpy.parse(text)
    assert use.span == a.Span(1, 1, 0, 6)
    assert (select.span.line, select.span.column) == (3, 3)
    assert text[select.span.start:select.span.end] == "SELECT *\n  FROM t WHERE k = 1"


def test_every_node_of_the_fixture_corpus_has_a_span_inside_its_statement():
    from cql_fixtures import identity_cases

    def walk(value, outer):
        if isinstance(value, a.Node):
            assert value.span is not None, value
            assert outer.start <= value.span.start <= value.span.end <= outer.end, value
            for field in dataclasses.fields(value):
                walk(getattr(value, field.name), value.span)
        elif isinstance(value, tuple):
            for item in value:
                walk(item, outer)
        else:
            assert value is None or isinstance(value, (str, bool, int)), repr(value)
    for case in identity_cases():
        statement = one(case.text)
        walk(statement, statement.span)


# --- terms ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("literal, kind, text", [
    ("'it''s'", "string", "it's"),
    ("$$a 'quoted'\nline$$", "string", "a 'quoted'\nline"),
    ("''", "string", ""),
    ("42", "integer", "42"),
    ("-42", "integer", "-42"),
    ("3.25", "float", "3.25"),
    ("1.", "float", "1."),
    ("-2.5E-3", "float", "-2.5E-3"),
    ("1e10", "float", "1e10"),
    ("NaN", "float", "NaN"),
    ("-NaN", "float", "NaN"),
    ("Infinity", "float", "Infinity"),
    ("-Infinity", "float", "-Infinity"),
    ("TRUE", "boolean", "true"),
    ("false", "boolean", "false"),
    ("0xCAFE", "hex", "0xCAFE"),
    ("0x", "hex", "0x"),
    ("550e8400-e29b-41d4-a716-446655440000", "uuid", "550e8400-e29b-41d4-a716-446655440000"),
    ("ABCDEF01-e29b-41d4-a716-446655440000", "uuid", "ABCDEF01-e29b-41d4-a716-446655440000"),
    ("1h30m", "duration", "1h30m"),
    ("12mo", "duration", "12mo"),
    ("-3w", "duration", "-3w"),
    ("1us", "duration", "1us"),
    ("1µs", "duration", "1µs"),
    ("5ns", "duration", "5ns"),
    ("P1Y2M3DT4H5M6S", "duration", "P1Y2M3DT4H5M6S"),
    ("PT10S", "duration", "PT10S"),
    ("P2W", "duration", "P2W"),
    ("P0001-02-03T04:05:06", "duration", "P0001-02-03T04:05:06"),
    ("NULL", "null", "NULL"),
])
def test_constants(literal, kind, text):
    value = one(f"INSERT INTO t (k) VALUES ({literal})").values[0]
    assert value == a.Constant(kind, text)
    assert value.is_null == (kind == "null")


def test_collection_tuple_and_user_type_literals():
    values = one("INSERT INTO t (a, b, c, d, e, f, g, h) VALUES "
                 "([1, 2], {1, 2}, {'k': 1}, {}, (1, 'x'), {f: 1, \"G\": 2}, [], (1))").values
    assert values == (
        a.ListLiteral((integer("1"), integer("2"))),
        a.SetLiteral((integer("1"), integer("2"))),
        a.MapLiteral(((string("k"), integer("1")),)),
        a.SetLiteral(()),
        a.TupleLiteral((integer("1"), string("x"))),
        a.UserTypeLiteral((("f", integer("1")), ("G", integer("2")))),
        a.ListLiteral(()),
        a.TupleLiteral((integer("1"),)),
    )


def test_function_calls_type_hints_and_casts_as_terms():
    values = one("INSERT INTO t (a, b, c, d) VALUES (now(), ks.f(1, ?), (bigint) ?, CAST(1 AS text))").values
    assert values == (
        a.FunctionCall("now"),
        a.FunctionCall("f", (integer("1"), a.BindMarker(0)), "ks"),
        a.TypeHint(a.CQLType("bigint"), a.BindMarker(1)),
        a.Cast(integer("1"), a.CQLType("text")),
    )


# --- types ---------------------------------------------------------------------------------------

def test_cql_types():
    table = one("CREATE TABLE t (k int PRIMARY KEY, a map<text, frozen<list<int>>>, b tuple<int, text>, "
                "c frozen<ks.addr>, d addr, e varchar)")
    types = {c.name: c.type for c in table.columns}
    assert types["a"] == a.CQLType("map", (a.CQLType("text"),
                                           a.CQLType("list", (a.CQLType("int"),), frozen=True)))
    assert types["b"] == a.CQLType("tuple", (a.CQLType("int"), a.CQLType("text")))
    assert types["c"] == a.CQLType("addr", frozen=True, keyspace="ks")
    assert types["d"].is_user_type and not types["d"].is_native
    assert types["e"] == a.CQLType("varchar") and types["e"].is_native
    assert types["a"].is_collection and types["b"].is_tuple
    assert str(types["a"]) == "map<text, frozen<list<int>>>"


# --- SELECT --------------------------------------------------------------------------------------

def test_select_clauses():
    statement = one("SELECT JSON DISTINCT k FROM ks.t WHERE k = 1 GROUP BY k ORDER BY c DESC, d "
                    "PER PARTITION LIMIT 2 LIMIT 10 ALLOW FILTERING")
    assert statement == a.Select(
        a.QualifiedName("ks", "t"), (a.Selector(a.ColumnRef("k")),), (a.Relation("k", "=", integer("1")),),
        (a.ColumnRef("k"),), (a.Ordering("c", True), a.Ordering("d", False)), integer("2"), integer("10"),
        allow_filtering=True, distinct=True, json=True)


def test_select_star_has_no_selectors():
    assert one("SELECT * FROM t").selectors == ()


def test_selector_expressions():
    selectors = [s.expression for s in one(
        "SELECT count(*), count(1), count(v), writetime(v), ttl(v), maxwritetime(v), CAST(v AS text), "
        "token(a, b), ks.f(v), m['k'], s[1..3], s[1..], s[..3], u.f, [a, 1], (a, b), 1, NULL, ? FROM t")
        .selectors]
    assert selectors == [
        a.CountRows(),
        a.FunctionCall("count", (integer("1"),)),
        a.FunctionCall("count", (a.ColumnRef("v"),)),
        a.WritetimeOrTTL("writetime", "v"),
        a.WritetimeOrTTL("ttl", "v"),
        a.WritetimeOrTTL("maxwritetime", "v"),
        a.Cast(a.ColumnRef("v"), a.CQLType("text")),
        a.FunctionCall("token", (a.ColumnRef("a"), a.ColumnRef("b"))),
        a.FunctionCall("f", (a.ColumnRef("v"),), "ks"),
        a.ElementSelection(a.ColumnRef("m"), string("k")),
        a.SliceSelection(a.ColumnRef("s"), integer("1"), integer("3")),
        a.SliceSelection(a.ColumnRef("s"), integer("1"), None),
        a.SliceSelection(a.ColumnRef("s"), None, integer("3")),
        a.FieldSelection(a.ColumnRef("u"), "f"),
        a.ListLiteral((a.ColumnRef("a"), integer("1"))),
        a.TupleLiteral((a.ColumnRef("a"), a.ColumnRef("b"))),
        integer("1"),
        a.NULL,
        a.BindMarker(0),
    ]


def test_selector_aliases():
    selectors = one("SELECT a AS x, count(*) AS \"N\" FROM t").selectors
    assert [(s.alias, type(s.expression)) for s in selectors] == [("x", a.ColumnRef), ("N", a.CountRows)]


@pytest.mark.parametrize("text, expected", [
    ("SELECT json FROM t", (False, "json")),
    ("SELECT distinct FROM t", (False, "distinct")),
    ("SELECT distinct AS d FROM t", (False, "distinct")),
    ("SELECT DISTINCT distinct FROM t", (True, "distinct")),
    ("SELECT JSON json FROM t", (True, "json")),
    ("SELECT DISTINCT json FROM t", (True, "json")),
])
def test_json_and_distinct_are_also_column_names(text, expected):
    statement = one(text)
    assert (statement.distinct or statement.json, statement.selectors[0].expression.name) == expected


# --- relations -----------------------------------------------------------------------------------

def test_relations():
    where = one("SELECT * FROM t WHERE a = 1 AND b < 2 AND c <= 3 AND d > 4 AND e >= 5 AND f != 6 "
                "AND g IN (1, 2) AND h IN () AND i IN ? AND j CONTAINS 1 AND k CONTAINS KEY 'x' "
                "AND l LIKE 'a%' AND m IS NOT NULL AND n['x'] = 1 AND token(a, b) > ? "
                "AND (c1, c2) > (1, 2) AND (c1, c2) IN ((1, 2), (3, 4)) AND (c1) IN ? AND (c3, c4) = ?").where
    assert where == (
        a.Relation("a", "=", integer("1")),
        a.Relation("b", "<", integer("2")),
        a.Relation("c", "<=", integer("3")),
        a.Relation("d", ">", integer("4")),
        a.Relation("e", ">=", integer("5")),
        a.Relation("f", "!=", integer("6")),
        a.Relation("g", "IN", a.InValues((integer("1"), integer("2")))),
        a.Relation("h", "IN", a.InValues(())),
        a.Relation("i", "IN", a.BindMarker(0)),
        a.Relation("j", "CONTAINS", integer("1")),
        a.Relation("k", "CONTAINS KEY", string("x")),
        a.Relation("l", "LIKE", string("a%")),
        a.Relation("m", "IS NOT", a.NULL),
        a.ElementRelation("n", string("x"), "=", integer("1")),
        a.TokenRelation(("a", "b"), ">", a.BindMarker(1)),
        a.TupleRelation(("c1", "c2"), ">", a.TupleLiteral((integer("1"), integer("2")))),
        a.TupleRelation(("c1", "c2"), "IN", a.InValues((a.TupleLiteral((integer("1"), integer("2"))),
                                                        a.TupleLiteral((integer("3"), integer("4")))))),
        a.TupleRelation(("c1",), "IN", a.BindMarker(2)),
        a.TupleRelation(("c3", "c4"), "=", a.BindMarker(3)),
    )


def test_token_relation_value_can_be_a_token_call():
    relation = one("SELECT * FROM t WHERE token(k) >= token(1)").where[0]
    assert relation == a.TokenRelation(("k",), ">=", a.FunctionCall("token", (integer("1"),)))


# --- INSERT / UPDATE / DELETE / BATCH ------------------------------------------------------------

def test_insert():
    assert one("INSERT INTO ks.t (k, v) VALUES (1, 'x') IF NOT EXISTS USING TTL 5 AND TIMESTAMP 7") == \
        a.Insert(a.QualifiedName("ks", "t"), ("k", "v"), (integer("1"), string("x")), True,
                 integer("5"), integer("7"))


def test_insert_json():
    assert one("INSERT INTO t JSON '{\"k\": 1}' DEFAULT UNSET IF NOT EXISTS USING TTL 3") == \
        a.InsertJson(T, string('{"k": 1}'), True, True, integer("3"))
    assert one("INSERT INTO t JSON ?").json == a.BindMarker(0)


def test_update_assignments():
    update = one("UPDATE t SET a = 1, b = b + 2, c = c - 3, d = [0] + d, e += 4, f -= 5, g = g -6, "
                 "h['k'] = 7, i.f = 8 WHERE k = 1")
    assert update.assignments == (
        a.SetValue("a", integer("1")),
        a.AddTo("b", integer("2")),
        a.RemoveFrom("c", integer("3")),
        a.Prepend("d", a.ListLiteral((integer("0"),))),
        a.AddTo("e", integer("4")),
        a.RemoveFrom("f", integer("5")),
        a.AddTo("g", integer("-6")),
        a.SetElement("h", string("k"), integer("7")),
        a.SetField("i", "f", integer("8")),
    )
    assert all(isinstance(s, a.Assignment) for s in update.assignments)


def test_update_conditions():
    update = one("UPDATE t SET v = 1 WHERE k = 1 IF a = 1 AND b != 2 AND c IN (1) AND d CONTAINS 3 "
                 "AND e CONTAINS KEY 4 AND f[1] > 5 AND g[1] IN ? AND h.x <= 6 AND i.y IN (7)")
    assert update.conditions == (
        a.Condition("a", "=", integer("1")),
        a.Condition("b", "!=", integer("2")),
        a.Condition("c", "IN", a.InValues((integer("1"),))),
        a.Condition("d", "CONTAINS", integer("3")),
        a.Condition("e", "CONTAINS KEY", integer("4")),
        a.Condition("f", ">", integer("5"), key=integer("1")),
        a.Condition("g", "IN", a.BindMarker(0), key=integer("1")),
        a.Condition("h", "<=", integer("6"), field="x"),
        a.Condition("i", "IN", a.InValues((integer("7"),)), field="y"),
    )
    assert not update.if_exists
    exists = one("UPDATE t SET v = 1 WHERE k = 1 IF EXISTS")
    assert exists.if_exists and exists.conditions == ()


def test_compatible_assignments_to_one_column_are_allowed():
    update = one("UPDATE t SET m['a'] = 1, m['b'] = 2, u.x = 1, u.y = 2, l = l + [1], l = [0] + l WHERE k = 1")
    assert len(update.assignments) == 6


def test_delete():
    delete = one("DELETE a, b[1], c.f FROM t USING TIMESTAMP 9 WHERE k = 1 IF EXISTS")
    assert delete == a.Delete(T, (a.Relation("k", "=", integer("1")),),
                              (a.Deletion("a"), a.Deletion("b", key=integer("1")), a.Deletion("c", field="f")),
                              if_exists=True, timestamp=integer("9"))
    assert one("DELETE FROM t WHERE k = 1").columns == ()


def test_batch():
    batch = one("BEGIN COUNTER BATCH UPDATE c SET n = n + 1 WHERE k = 1 UPDATE c SET n = n + 1 WHERE k = 2 "
                "APPLY BATCH")
    assert batch.kind == a.COUNTER and len(batch.statements) == 2
    assert one("BEGIN UNLOGGED BATCH APPLY BATCH") == a.Batch((), a.UNLOGGED)
    assert one("BEGIN BATCH USING TIMESTAMP 1 APPLY BATCH") == a.Batch((), a.LOGGED, timestamp=integer("1"))
    assert all(isinstance(s, a.Modification) for s in
               one("BEGIN BATCH INSERT INTO t (k) VALUES (1); DELETE FROM t WHERE k = 1; APPLY BATCH").statements)


# --- DDL -----------------------------------------------------------------------------------------

def test_create_table_primary_keys():
    inline = one("CREATE TABLE t (k int PRIMARY KEY, v text)")
    assert (inline.partition_key, inline.clustering_columns) == (("k",), ())
    composite = one("CREATE TABLE t (a int, b int, c int, d int, s int STATIC, "
                    "PRIMARY KEY ((a, b), c, d))")
    assert (composite.partition_key, composite.clustering_columns) == (("a", "b"), ("c", "d"))
    assert [c.static for c in composite.columns] == [False, False, False, False, True]
    none = one("CREATE TABLE t (a int)")
    assert (none.partition_key, none.clustering_columns) == ((), ())


def test_create_table_options():
    table = one("CREATE TABLE IF NOT EXISTS ks.t (k int, c int, PRIMARY KEY (k, c)) WITH "
                "gc_grace_seconds = 10 AND CLUSTERING ORDER BY (c DESC) AND "
                "compaction = {'class': 'LeveledCompactionStrategy'} AND COMPACT STORAGE")
    assert table.if_not_exists and table.compact_storage
    assert table.clustering_order == (a.Ordering("c", True),)
    assert table.options == (
        a.Property("gc_grace_seconds", integer("10")),
        a.Property("compaction", a.MapLiteral(((string("class"), string("LeveledCompactionStrategy")),))),
    )


def test_keyspace_statements():
    create = one("CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', "
                 "'replication_factor': 1} AND durable_writes = false")
    assert create.name == "ks" and create.if_not_exists
    assert [p.name for p in create.options] == ["replication", "durable_writes"]
    assert create.options[1].value == a.Constant("boolean", "false")
    assert one("ALTER KEYSPACE ks WITH durable_writes = true") == \
        a.AlterKeyspace("ks", (a.Property("durable_writes", a.Constant("boolean", "true")),))
    assert one("DROP KEYSPACE IF EXISTS ks") == a.DropKeyspace("ks", True)


def test_alter_table_statements():
    assert one("ALTER TABLE IF EXISTS t ADD IF NOT EXISTS (a int, b text STATIC)") == a.AlterTableAdd(
        T, (a.ColumnDefinition("a", a.CQLType("int")), a.ColumnDefinition("b", a.CQLType("text"), True)),
        True, True)
    assert one("ALTER TABLE t DROP IF EXISTS (a, b) USING TIMESTAMP 5") == \
        a.AlterTableDrop(T, ("a", "b"), False, True, integer("5"))
    assert one("ALTER TABLE t RENAME a TO b AND c TO d") == a.AlterTableRename(T, (("a", "b"), ("c", "d")))
    assert one("ALTER TABLE t WITH comment = 'x'") == a.AlterTableWith(T, (a.Property("comment", string("x")),))
    assert one("ALTER TABLE t ALTER v TYPE blob") == a.AlterTableAlterType(T, "v", a.CQLType("blob"))
    assert one("ALTER TABLE t DROP COMPACT STORAGE") == a.AlterTableDropCompactStorage(T)
    assert one("ALTER TABLE t DROP compact") == a.AlterTableDrop(T, ("compact",))


def test_index_and_type_statements():
    assert one("CREATE CUSTOM INDEX IF NOT EXISTS i ON ks.t (v, KEYS(m), VALUES(l), ENTRIES(m), FULL(f)) "
               "USING 'cls' WITH options = {'a': 'b'}") == a.CreateIndex(
        a.QualifiedName("ks", "t"),
        (a.IndexTarget("v"), a.IndexTarget("m", "KEYS"), a.IndexTarget("l", "VALUES"),
         a.IndexTarget("m", "ENTRIES"), a.IndexTarget("f", "FULL")),
        "i", True, "cls", (a.Property("options", a.MapLiteral(((string("a"), string("b")),))),), True)
    assert one("DROP INDEX ks.i") == a.DropIndex(a.QualifiedName("ks", "i"))
    assert one("CREATE TYPE ks.addr (street text, zip int)") == a.CreateType(
        a.QualifiedName("ks", "addr"),
        (a.FieldDefinition("street", a.CQLType("text")), a.FieldDefinition("zip", a.CQLType("int"))))
    assert one("ALTER TYPE addr ADD country text") == a.AlterTypeAdd(
        a.QualifiedName(None, "addr"), a.FieldDefinition("country", a.CQLType("text")))
    assert one("DROP TYPE IF EXISTS addr") == a.DropType(a.QualifiedName(None, "addr"), True)


def test_use_truncate_explain():
    assert one("USE \"MyKs\"") == a.Use("MyKs")
    assert one("TRUNCATE TABLE ks.t") == a.Truncate(a.QualifiedName("ks", "t"))
    explained = one("EXPLAIN SELECT * FROM t")
    assert explained == a.Explain(a.Select(T))


@pytest.mark.parametrize("text, target, name", [
    ("DESCRIBE CLUSTER", "CLUSTER", None),
    ("DESC SCHEMA", "SCHEMA", None),
    ("DESCRIBE FULL SCHEMA", "FULL SCHEMA", None),
    ("DESCRIBE KEYSPACES", "KEYSPACES", None),
    ("DESCRIBE KEYSPACE", "KEYSPACE", None),
    ("DESCRIBE KEYSPACE ks", "KEYSPACE", a.QualifiedName(None, "ks")),
    ("DESCRIBE ONLY KEYSPACE ks", "ONLY KEYSPACE", a.QualifiedName(None, "ks")),
    ("DESCRIBE TABLES", "TABLES", None),
    ("DESCRIBE TABLE ks.t", "TABLE", a.QualifiedName("ks", "t")),
    ("DESCRIBE COLUMNFAMILY t", "TABLE", T),
    ("DESCRIBE INDEX i", "INDEX", a.QualifiedName(None, "i")),
    ("DESCRIBE MATERIALIZED VIEW v", "MATERIALIZED VIEW", a.QualifiedName(None, "v")),
    ("DESCRIBE TYPES", "TYPES", None),
    ("DESCRIBE TYPE ks.addr", "TYPE", a.QualifiedName("ks", "addr")),
    ("DESCRIBE FUNCTIONS", "FUNCTIONS", None),
    ("DESCRIBE FUNCTION ks.f", "FUNCTION", a.QualifiedName("ks", "f")),
    ("DESCRIBE AGGREGATES", "AGGREGATES", None),
    ("DESCRIBE AGGREGATE avg2", "AGGREGATE", a.QualifiedName(None, "avg2")),
    ("DESCRIBE ks", "NAME", a.QualifiedName(None, "ks")),
    ("DESCRIBE ks.t", "NAME", a.QualifiedName("ks", "t")),
    ("DESCRIBE cluster.t", "NAME", a.QualifiedName("cluster", "t")),
    ("DESCRIBE type", "NAME", a.QualifiedName(None, "type")),
    ("DESCRIBE \"tables\"", "NAME", a.QualifiedName(None, "tables")),
])
def test_describe(text, target, name):
    statement = one(text)
    assert (statement.target, statement.name, statement.with_internals) == (target, name, False)
    assert statement.target in a.DESCRIBE_TARGETS
    assert one(text + " WITH INTERNALS").with_internals


def test_roles_and_users():
    assert one("CREATE ROLE IF NOT EXISTS r WITH PASSWORD = 'p' AND LOGIN = true AND SUPERUSER = false "
               "AND OPTIONS = {'a': 1} AND HASHED PASSWORD = 'h'") == a.CreateRole("r", (
                   a.Property("password", string("p")), a.Property("login", a.Constant("boolean", "true")),
                   a.Property("superuser", a.Constant("boolean", "false")),
                   a.Property("options", a.MapLiteral(((string("a"), integer("1")),))),
                   a.Property("hashed_password", string("h"))), True)
    assert one("CREATE ROLE 'Mixed'").name == "Mixed"
    assert one("ALTER ROLE r WITH LOGIN = false") == a.AlterRole(
        "r", (a.Property("login", a.Constant("boolean", "false")),))
    assert one("DROP ROLE IF EXISTS r") == a.DropRole("r", True)
    assert one("LIST ROLES OF r NORECURSIVE") == a.ListRoles("r", False)
    assert one("LIST ROLES") == a.ListRoles()
    assert one("CREATE USER Bob WITH PASSWORD 'pw' SUPERUSER") == a.CreateUser("Bob", "pw", True)
    assert one("ALTER USER 'bob' NOSUPERUSER") == a.AlterUser("bob", None, False)
    assert one("DROP USER bob") == a.DropUser("bob")
    assert one("LIST USERS") == a.ListUsers()
    with pytest.raises(errors.SyntaxException):
        one("CREATE ROLE r WITH LOGIN = true AND LOGIN = false")
