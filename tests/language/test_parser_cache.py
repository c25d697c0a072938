"""The analysed grammar is cached as JSON data (never a pickle) and a damaged cache is rebuilt."""
import json

from cqlpy.language import parser_cache
from cqlpy.language.grammar import grammar_text
from cqlpy.language.parser import _runtime_options, build_parser


def test_cache_round_trip_parses_the_same(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = parser_cache.cache_path(grammar_text())
    assert path.parent == tmp_path / "cqlpy" and path.suffix == ".json"
    built = parser_cache.load_or_build(grammar_text(), build_parser, **_runtime_options())
    assert path.exists()
    json.loads(path.read_text())                      # plain JSON data
    loaded = parser_cache.load_or_build(grammar_text(), build_parser, **_runtime_options())
    text = "SELECT a, b FROM ks.t WHERE k IN (1, 2) AND c > 'x' LIMIT 10;"
    assert loaded.parse(text, start="script") == built.parse(text, start="script")


def test_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = parser_cache.cache_path(grammar_text())
    path.write_text('{"data": {"not": "lark"}, "memo": {}}')
    parser = parser_cache.load_or_build(grammar_text(), build_parser, **_runtime_options())
    assert parser.parse("USE ks", start="single") is not None
    assert json.loads(path.read_text())["data"] != {"not": "lark"}


def test_loaded_parser_has_the_built_analysis(tmp_path, monkeypatch):
    """Rules, symbols, terminals and the LALR table rebuilt from the compact cache are Lark's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    built = parser_cache.load_or_build(grammar_text(), build_parser, **_runtime_options())
    loaded = parser_cache.load_or_build(grammar_text(), build_parser, **_runtime_options())
    stored = json.loads(parser_cache.cache_path(grammar_text()).read_text())
    assert loaded is not built and stored["format"] == parser_cache.FORMAT

    def analysis(parser):
        data, memo = parser.memo_serialize([parser_cache.TerminalDef, parser_cache.Rule])
        return data["parser"], data["rules"], memo

    states = loaded.parser.parser._parse_table.states
    loaded.parse("USE ks", start="single")
    assert 0 < dict.__len__(states) < len(states)          # decoded on first use, then all for len()
    assert analysis(loaded) == analysis(built)
    for text in ("INSERT INTO t (k, v) VALUES (1, 'a') IF NOT EXISTS", "SELECT * FROM t WHERE",
                 "CREATE TABLE t (k int PRIMARY KEY, m map<text, frozen<list<int>>>)"):
        for parser in (built, loaded):
            try:
                result = ("ok", parser.parse(text, start="single"))
            except Exception as error:      # noqa: BLE001 - both parsers must fail alike
                result = ("error", type(error).__name__, str(error))
            if parser is built:
                expected = result
        assert result == expected


def test_lark_is_imported_without_the_optional_regex_module():
    """cqlpy.language keeps lark's optional ``regex`` import out of startup, and leaves it importable."""
    import subprocess
    import sys
    code = ("import sys, importlib.util, cqlpy.language, lark.utils\n"
            "assert 'regex' not in sys.modules and not lark.utils._has_regex\n"
            "assert cqlpy.language.parse_one('SELECT a FROM t WHERE k = $$x$$') is not None\n"
            "if importlib.util.find_spec('regex'):\n"
            "    import regex; assert regex.match('a', 'a')\n")
    subprocess.run([sys.executable, "-c", code], check=True)
