"""Completion as a pure function of (text, cursor, catalog): no terminal, no database."""
from __future__ import annotations

import pytest

from cqlpy_shell.catalog import Catalog
from cqlpy_shell.completion import complete, statement_start

CATALOG = Catalog.build(
    {"shop": {"orders": [("customer", "partition_key", "int"), ("region", "partition_key", "text"),
                         ("placed", "clustering", "timestamp"), ("line", "clustering", "int"),
                         ("total", "regular", "decimal"), ("note", "static", "text"),
                         ("Mixed Case", "regular", "text")],
              "users": [("id", "partition_key", "int"), ("name", "regular", "text")]},
     "other": {"things": [("k", "partition_key", "int")]}},
    types={"shop": ["address"]}, keyspace="shop")


def labels(text: str, cursor: int | None = None, catalog: Catalog = CATALOG) -> list[str]:
    return [s.label for s in complete(text, cursor, catalog)]


def texts(text: str, cursor: int | None = None) -> list[str]:
    return [s.text for s in complete(text, cursor, CATALOG) if s.kind != "hint"]


def test_empty_input_offers_statement_keywords_and_special_commands():
    found = texts("")
    for word in ("SELECT", "INSERT", "CREATE", "USE", "DESCRIBE", "CONSISTENCY", "EXPAND", "COPY", "HELP",
                 "SERIAL CONSISTENCY", "EXIT"):
        assert word in found


def test_keyword_prefix_keeps_the_users_case():
    assert texts("sel") == ["select"]
    assert texts("SEL") == ["SELECT"]


def test_after_select_star_only_from():
    assert texts("SELECT * ") == ["FROM"]


def test_tables_of_current_keyspace_then_keyspaces():
    assert texts("SELECT * FROM ") == ["orders", "users", "other.", "shop."]


def test_table_prefix_and_qualified_tables():
    assert texts("SELECT * FROM us") == ["users"]
    assert texts("SELECT * FROM other.") == ["things"]
    assert texts("select * from other.th") == ["things"]


def test_where_offers_partition_key_then_clustering_in_order():
    found = texts("SELECT * FROM orders WHERE ")
    columns = [t for t in found if t[0].islower() or t.startswith('"')]
    assert columns[:4] == ["customer", "region", "placed", "line"]
    assert set(columns[4:]) == {"note", "total", '"Mixed Case"'}
    assert "TOKEN" in found


def test_after_a_relation_the_clauses_that_may_follow():
    assert texts("SELECT * FROM orders WHERE customer = 1 ") == \
        ["ALLOW", "AND", "GROUP", "LIMIT", "ORDER", "PER", ";"]


def test_columns_in_select_list_come_from_the_from_table_even_after_the_cursor():
    text = "SELECT  FROM users"
    found = texts(text, cursor=7)
    assert found[:2] == ["id", "name"]


def test_order_by_offers_clustering_columns():
    assert texts("SELECT * FROM orders WHERE customer = 1 AND region = 'x' ORDER BY ") == ["placed", "line"]


def test_insert_columns_and_update_assignments():
    assert texts("INSERT INTO users (") == ["id", "name"]
    assert texts("UPDATE users SET ")[:1] == ["name"]        # non-key columns first


def test_use_offers_keyspaces():
    assert texts("USE ") == ["other", "shop"]


def test_new_names_are_hints_never_inserted():
    suggestions = complete("CREATE KEYSPACE ", None, CATALOG)
    hints = [s for s in suggestions if s.kind == "hint"]
    assert hints and all(s.text == "" for s in hints)
    assert "IF" in [s.text for s in suggestions]


def test_create_table_primary_key_offers_defined_columns():
    assert texts("CREATE TABLE t (a int, b text, PRIMARY KEY (")[:2] == ["a", "b"]


def test_types_in_column_definitions():
    found = texts("CREATE TABLE t (a ")
    assert "address" in found and "INT" in found and "MAP" in found and "FROZEN" in found


def test_keyspace_properties():
    assert texts("CREATE KEYSPACE k WITH ") == ["replication", "durable_writes"]
    assert texts("CREATE KEYSPACE k WITH replication = ")[0].startswith("{'class': 'SimpleStrategy'")


def test_unreserved_keywords_are_not_offered_as_keywords_where_only_a_name_fits():
    found = texts("SELECT * FROM users WHERE ")
    assert "TTL" not in found and "KEY" not in found and "COUNT" not in found


def test_nothing_after_a_syntax_error_or_inside_a_string():
    assert texts("SELECT * FRM ") == []
    assert texts("SELECT * FROM users WHERE name = 'abc") == []


def test_second_statement_in_the_buffer():
    assert texts("SELECT * FROM users; SELECT * FROM o") == ["orders", "other."]
    assert statement_start("SELECT 'a;b' FROM t; SEL") == len("SELECT 'a;b' FROM t;")


def test_special_command_arguments_come_from_the_registry():
    assert texts("CONSISTENCY ")[:3] == ["ANY", "ONE", "TWO"]
    assert texts("CONSISTENCY lo") == ["LOCAL_QUORUM", "LOCAL_SERIAL", "LOCAL_ONE"]
    assert texts("SERIAL CONSISTENCY ") == ["SERIAL", "LOCAL_SERIAL"]
    assert texts("EXPAND ") == ["ON", "OFF", "AUTO"]
    assert texts("PAGING ") == ["ON", "OFF"]
    assert texts("OUTPUT ") == ["table", "expand", "csv", "json"]
    assert "COPY" in texts("HELP ") and "SELECT" in texts("HELP ")


def test_copy_completion():
    assert texts("COPY ")[:2] == ["orders", "users"]
    assert texts("COPY users ") == ["TO", "FROM", "("]
    assert texts("COPY users TO ") == ["STDOUT"]
    assert texts("COPY users FROM 'x.csv' ") == ["WITH"]
    found = texts("COPY users FROM 'x.csv' WITH ")
    assert "HEADER" in found and "MAXPARSEERRORS" in found and "PAGESIZE" not in found


def test_describe_forms_and_names():
    found = texts("DESCRIBE ")
    assert {"KEYSPACES", "TABLE", "TABLES", "KEYSPACE", "shop", "users"} <= set(found)
    assert texts("DESC KEYSPACE ")[:2] == ["other", "shop"]
    assert texts("DESC TABLE sh") == ["shop."]


def test_fresh_catalog_is_used_at_once():
    grown = Catalog.build({"shop": {"users": [("id", "partition_key")], "new_table": [("k", "partition_key")]}},
                          keyspace="shop")
    assert texts("SELECT * FROM n") == []
    assert [s.text for s in complete("SELECT * FROM n", None, grown)] == ["new_table"]


def test_without_keyspace_tables_need_a_keyspace():
    no_ks = CATALOG.with_keyspace(None)
    assert [s.text for s in complete("SELECT * FROM ", None, no_ks)] == ["other.", "shop."]


@pytest.mark.parametrize("text", ["BEGIN BATCH ", "BEGIN BATCH INSERT INTO users (id) VALUES (1); "])
def test_batch_bodies(text):
    found = texts(text)
    assert {"INSERT", "UPDATE", "DELETE"} <= set(found)


def test_file_names_in_quotes(tmp_path):
    (tmp_path / "data.csv").write_text("")
    (tmp_path / "dump").mkdir()
    (tmp_path / "other.txt").write_text("")
    found = complete(f"COPY users FROM '{tmp_path}/d", None, CATALOG)
    assert [(s.text, s.replace) for s in found] == [("data.csv'", 1), ("dump/", 1)]
    assert [s.text for s in complete(f"SOURCE '{tmp_path}/", None, CATALOG)] == ["data.csv'", "dump/", "other.txt'"]
    fake = complete("CAPTURE 'x", None, CATALOG, listdir=lambda folder: ["xa.txt", "b"])
    assert [s.text for s in fake] == ["xa.txt'"]


def test_restricted_columns_go_last():
    found = texts("SELECT * FROM orders WHERE customer = 1 AND ")
    assert found[:3] == ["region", "placed", "line"]
    assert "customer" in found
