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
