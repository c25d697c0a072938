"""The special-command registry: one place for dispatch, HELP and completion."""
from __future__ import annotations

import io

from cqlpy_shell.completion import complete
from cqlpy_shell.help import CQL_TOPICS, rule_syntax, topic_text
from cqlpy_shell.output import Output
from cqlpy_shell.runner import Shell
from cqlpy_shell.special import COMMANDS, commands, special_command

EXPECTED = {"DESCRIBE", "USE", "CONSISTENCY", "SERIAL CONSISTENCY", "EXPAND", "PAGING", "TRACING", "TIMING",
            "EXPLAIN", "SOURCE", "CAPTURE", "COPY", "SHOW", "HELP", "CLEAR", "EXIT", "OUTPUT"}


def offline_shell() -> tuple[Shell, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Shell(None, stdout=out, stderr=err), out, err


def test_every_command_is_registered_with_syntax_and_help():
    names = {c.name for c in commands()}
    assert EXPECTED <= names
    for command in commands():
        assert command.syntax and command.help, command.name
    assert COMMANDS["DESC"] is COMMANDS["DESCRIBE"] and COMMANDS["QUIT"] is COMMANDS["EXIT"]


def test_help_lists_the_registry_and_cql_topics():
    shell, out, _ = offline_shell()
    shell.run_statement("HELP")
    text = out.getvalue()
    for name in EXPECTED:
        assert name in text
    assert "CREATE_TABLE" in text


def test_help_topics_offline():
    assert topic_text("consistency").startswith("CONSISTENCY [level]")
    select = topic_text("SELECT")
    assert "select_statement ::= select_head FROM table_name [where_clause]" in select
    assert "Example:" in select
    for topic in CQL_TOPICS:
        assert topic_text(topic), topic
    assert topic_text("nonsense") is None
    assert rule_syntax("use_statement") == "use_statement ::= USE ident"


def test_a_new_command_reaches_dispatch_help_and_completion():
    @special_command("ZAPTEST", syntax="ZAPTEST [A | B]", help="A test command.", arguments=(("A", "B"),),
                     hidden=False)
    def zap(shell, argument):
        return Output(message=f"zapped {argument}")

    try:
        shell, out, _ = offline_shell()
        assert shell.run_statement("zaptest b")
        assert out.getvalue() == "zapped b\n"
        assert "ZAPTEST" in [s.text for s in complete("ZAP")]
        assert [s.text for s in complete("ZAPTEST ")] == ["A", "B"]
        assert "A test command." in topic_text("ZAPTEST")
    finally:
        for key in ("ZAPTEST",):
            COMMANDS.pop(key, None)
        from cqlpy_shell import special
        special._ORDER[:] = [c for c in special._ORDER if c.name != "ZAPTEST"]


def test_settings_commands_without_a_database():
    shell, out, err = offline_shell()
    for line in ("CONSISTENCY ALL", "EXPAND AUTO", "PAGING 7", "TRACING ON", "TIMING OFF", "OUTPUT json"):
        assert shell.run_statement(line), err.getvalue()
    assert (shell.state.consistency, shell.state.expand, shell.state.page_size) == ("ALL", "AUTO", 7)
    assert shell.state.tracing and shell.state.format == "json"
    assert not shell.run_statement("EXPAND sideways", "x.cql", 3)
    assert err.getvalue() == "x.cql:3:Improper EXPAND command.\n"


def test_capture_messages(tmp_path):
    shell, out, err = offline_shell()
    path = tmp_path / "cap.txt"
    shell.run_statement(f"CAPTURE '{path}'")
    shell.run_statement("CAPTURE")
    shell.run_statement(f"CAPTURE '{path}'")
    shell.run_statement("CAPTURE OFF")
    shell.run_statement("CAPTURE OFF")
    assert out.getvalue() == (f"Now capturing query output to '{path}'.\n"
                              f"Currently capturing query output to '{path}'.\n")
    assert err.getvalue() == (f"Already capturing output to {path}. Use CAPTURE OFF to disable.\n"
                              "Not currently capturing output.\n")
