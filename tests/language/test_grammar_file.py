"""The grammar file and the parser built from it: conflict-free LALR, a builder callback for every
rule, built once per process, safe to use from several threads."""
import logging
import threading
from pathlib import Path

from lark import logger as lark_logger

import cqlpy
from cqlpy.language import ast as a
from cqlpy.language.builder import CALLBACKS
from cqlpy.language.grammar import grammar_text
from cqlpy.language.parser import build_parser, lark_parser

REPOSITORY = Path(__file__).resolve().parents[2]


def test_the_grammar_is_the_repository_file():
    assert grammar_text() == (REPOSITORY / "grammar" / "cql.lark").read_text(encoding="utf-8")


def test_the_grammar_has_no_lalr_conflicts(caplog):
    # Lark resolves shift/reduce conflicts as shift and only says so in debug mode; reduce/reduce
    # conflicts not settled by a rule priority are errors.  The grammar must have neither.
    lark_logger.addHandler(caplog.handler)
    previous = lark_logger.level
    lark_logger.setLevel(logging.DEBUG)
    try:
        build_parser(cache=False, debug=True)
    finally:
        lark_logger.setLevel(previous)
        lark_logger.removeHandler(caplog.handler)
    conflicts = [r.getMessage() for r in caplog.records if "conflict" in r.getMessage().lower()]
    assert conflicts == []


def test_every_rule_has_a_builder_callback_and_every_callback_a_rule():
    parser = lark_parser()
    needed = set()
    for rule in parser.rules:
        name = str(rule.alias or rule.options.template_source or rule.origin.name)
        inlined = name.startswith("_") or (rule.options.expand1 and not rule.alias)
        if not inlined:
            needed.add(name)
    assert needed - set(CALLBACKS) == set()
    assert set(CALLBACKS) - needed - {"script", "single"} == set()


def test_the_parser_is_built_once():
    assert lark_parser() is lark_parser()


def test_parsing_from_several_threads():
    texts = [f"SELECT a{i}, ? FROM t{i} WHERE k = ? AND c IN ? LIMIT ?" for i in range(8)]
    failures = []

    def work(text):
        for _ in range(200):
            statement = cqlpy.parse_one(text)
            indexes = [statement.selectors[1].expression.index, statement.where[0].value.index,
                       statement.where[1].value.index, statement.limit.index]
            if indexes != [0, 1, 2, 3] or statement.table.name != text.split()[4]:
                failures.append((text, indexes))
    threads = [threading.Thread(target=work, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_parse_results_hold_only_ast_values():
    from cql_fixtures import identity_cases, normalize_cases

    def walk(value):
        if isinstance(value, a.Node):
            for name in value.__dataclass_fields__:
                if name != "span":
                    walk(getattr(value, name))
        elif type(value) is tuple:
            for item in value:
                walk(item)
        else:
            assert value is None or type(value) in (str, bool, int), repr(value)
    for case in identity_cases() + normalize_cases():
        walk(cqlpy.parse_one(case.text))
