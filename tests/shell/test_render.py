"""Rendering as pure functions: cqlsh's plain layout byte for byte, EXPAND, csv, json, colours."""
from __future__ import annotations

import datetime
import uuid

from cqlpy.schema.types import NATIVE_TYPES, ListType, MapType, SetType

from cqlpy_shell.output import CLUSTERING, PARTITION_KEY, REGULAR, STATIC, Column, Output, RenderOptions
from cqlpy_shell.render import (CYAN, MAGENTA, RED, RESET, WHITE, columnize, render, table_width,
                                 use_vertical)

INT, TEXT, DOUBLE = NATIVE_TYPES["int"], NATIVE_TYPES["text"], NATIVE_TYPES["double"]
COLS = (Column("id", INT, PARTITION_KEY), Column("c", INT, CLUSTERING), Column("v", TEXT, REGULAR))
PLAIN = RenderOptions()


def result(rows, columns=COLS, **kw) -> Output:
    return Output(columns, rows, is_query=True, **kw)


def test_cqlsh_table_layout():
    text = render(result([(1, 1, "val1"), (1, 4, "val4")]), PLAIN)
    assert text == ("\n"
                    " id | c | v\n"
                    "----+---+------\n"
                    "  1 | 1 | val1\n"
                    "  1 | 4 | val4\n"
                    "\n"
                    "(2 rows)\n")


def test_empty_result_prints_header_rule_and_two_blank_lines():
    assert render(result([]), PLAIN) == "\n id | c | v\n----+---+---\n\n\n(0 rows)\n"


def test_no_footer_for_conditional_write_results():
    cols = (Column("[applied]", NATIVE_TYPES["boolean"]),)
    assert render(Output(cols, [(True,)], footer=False), PLAIN) == "\n [applied]\n-----------\n      True\n"


def test_pages_print_the_header_once_and_count_every_row():
    last = result([(2, 1, "b")])
    first = result([(1, 1, "a")], next_page=lambda: last)
    assert render(first, PLAIN) == ("\n id | c | v\n----+---+---\n  1 | 1 | a\n  2 | 1 | b\n\n(2 rows)\n")


def test_wide_unicode_aligns_by_display_width():
    text = render(result([(1, 1, "日本")]), PLAIN)
    assert " id | c | v\n----+---+------\n  1 | 1 | 日本\n" in text


def test_expand_blocks():
    text = render(result([(1, 1, "val1")]), RenderOptions(expand="ON"))
    assert text == "\n@ Row 1\n----+------\n id | 1\n c  | 1\n v  | val1\n\n\n(1 rows)\n"


def test_expand_auto_switches_when_too_wide():
    rows = [(1, 1, "x" * 100)]
    narrow = RenderOptions(expand="AUTO", width=40)
    assert table_width(COLS, rows, narrow) > 40
    assert use_vertical(COLS, rows, narrow)
    assert not use_vertical(COLS, [(1, 1, "x")], narrow)
    assert "@ Row 1" in render(result(rows), narrow)


def test_values_formatted_as_cqlsh():
    cols = (Column("l", ListType(TEXT)), Column("m", MapType(TEXT, INT)), Column("d", DOUBLE),
            Column("b", NATIVE_TYPES["blob"]), Column("n", INT), Column("ts", NATIVE_TYPES["timestamp"]),
            Column("u", NATIVE_TYPES["uuid"]), Column("s", SetType(INT)), Column("bo", NATIVE_TYPES["boolean"]))
    row = (["a", "b"], {"k": 1}, 3.14159265, b"\x01\xff", None, datetime.datetime(2024, 1, 2, 3, 4, 5, 678000),
           uuid.UUID(int=1), {2, 1}, False)
    line = render(Output(cols, [row]), PLAIN).splitlines()[3]
    assert line == (" ['a', 'b'] | {'k': 1} | 3.14159 | 0x01ff | null | 2024-01-02 03:04:05.678000+0000 | "
                    "00000000-0000-0000-0000-000000000001 | {1, 2} | False")


def test_header_colours_by_key_role_and_value_colours():
    cols = COLS + (Column("s", TEXT, STATIC),)
    text = render(result([(1, 2, None, "x")], cols), RenderOptions(color=True))
    header = text.splitlines()[1]
    assert header.startswith(f" {RED}id{RESET} | {CYAN}c{RESET} | {MAGENTA}v{RESET}")
    assert f"{WHITE}s{RESET}" in header
    row = text.splitlines()[3]
    assert "\033[0;1;32m1\033[0m" in row            # numbers green
    assert "\033[0;1;31mnull\033[0m" in row         # null red
    assert "\033[0;1;33mx\033[0m" in row            # text yellow


def test_csv_and_json_have_no_footer():
    rows = [(1, 2, 'a "b", c'), (2, 3, None)]
    assert render(result(rows), RenderOptions(format="csv")) == 'id,c,v\n1,2,"a ""b"", c"\n2,3,\n'
    assert render(result(rows), RenderOptions(format="json")) == \
        '[\n{"id": 1, "c": 2, "v": "a \\"b\\", c"},\n{"id": 2, "c": 3, "v": null}\n]\n'
    assert render(result([]), RenderOptions(format="json")) == "[\n]\n"


def test_json_across_pages_is_one_array():
    last = result([(2, 1, "b")])
    first = result([(1, 1, "a")], next_page=lambda: last)
    import json
    assert [r["id"] for r in json.loads(render(first, RenderOptions(format="json")))] == [1, 2]


def test_rich_table_in_a_terminal():
    text = render(result([(1, 2, "x")]), RenderOptions(tty=True, color=True, width=60))
    assert "\x1b[" in text and "(1 rows)" in text and "│" in text


def test_message_then_rows():
    assert render(Output(message="hello"), PLAIN) == "hello\n"


def test_columnize_as_cmd_module():
    assert columnize(["a"]) == "a\n"
    assert columnize(["ks", "system", "system_auth"]) == "ks  system  system_auth\n"
    assert columnize([]) == "<empty>\n"
    wide = columnize([f"name{i:02d}" for i in range(30)], width=30)
    assert all(len(line) <= 30 for line in wide.splitlines())
