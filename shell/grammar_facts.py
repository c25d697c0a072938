"""Facts about CQL syntax at a cursor, computed from grammar/cql.lark: which tokens may come next, and
what kind of name an identifier there would be (keyspace, table, column, ...).

cqlpy.language offers no completion helpers, so this module builds its own LALR(1) tables from the
same grammar text (``cqlpy.language.grammar.grammar_text``) with Lark's analyzer in debug mode, which
keys the parse table by LR(0) item sets.  Running the tokens before the cursor through that table
gives the parser's state stack; the state's items say which rules are waiting for a name, so a name
is classified by the grammar (``table_name``, ``relation``, ``use_statement`` ...) rather than by
guessing from the previous keyword.  Built once per process (about a second).
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from lark import Lark, Token
from lark.common import ParserConf
from lark.exceptions import LarkError
from lark.lexer import PatternStr
from lark.parsers.lalr_analysis import LALR_Analyzer, Shift

from cqlpy.language.grammar import grammar_text, keyword_terminals, reserved_keywords

START = "single"
NAME_TERMINALS = ("IDENT", "QUOTED_NAME")
# Rules that turn a word into a name, and the groups of keywords that may be used as names.
NAME_RULES = frozenset({"ident", "function_ident", "selector_function_ident", "type_ident", "describe_name",
                        "user_name", "role_name"})
KEYWORD_GROUPS = frozenset({"unreserved_keyword", "basic_unreserved_keyword", "other_unreserved_keyword",
                            "describe_form_keyword", "native_type_keyword", "function_call_keyword",
                            "select_modifier_keyword"})
_HELPER = re.compile(r"^__(.+?)_(?:star|plus|opt|inline)_\d+$")


def rule_name(origin: str) -> str:
    """A rule's grammar name: Lark's helper rules for repetitions (``__where_clause_star_3``) are
    named after the rule they belong to."""
    origin = str(origin)
    match = _HELPER.match(origin)
    return match.group(1) if match else origin


@dataclass(frozen=True)
class Item:
    """One LR(0) item of a state: ``rule: before . after``."""

    rule: str            # the rule's grammar name (helpers folded)
    index: int           # symbols before the dot
    expansion: tuple[str, ...]

    @property
    def next(self) -> str | None:
        return self.expansion[self.index] if self.index < len(self.expansion) else None


class GrammarFacts:
    """The CQL grammar as tables a completer can query (see the module documentation)."""

    def __init__(self) -> None:
        self._keywords = {text: name for name, text in keyword_terminals().items()}
        self.lark = Lark(grammar_text(), parser="lalr", lexer="basic", start=[START], keep_all_tokens=True,
                         lexer_callbacks={"IDENT": self._retype})
        analyzer = LALR_Analyzer(ParserConf(self.lark.rules, {}, [START]), debug=True)
        analyzer.compute_lalr()
        table = analyzer.parse_table
        self.states = table.states
        self.start_state = table.start_states[START]
        self.terminal_text: dict[str, str] = {
            t.name: t.pattern.value for t in self.lark.terminals if isinstance(t.pattern, PatternStr)}
        self.keyword_text = dict(keyword_terminals())
        self.reserved = reserved_keywords()
        self._items: dict[frozenset, tuple[Item, ...]] = {}

    def _retype(self, token: Token) -> Token:
        kind = self._keywords.get(token.value.lower())
        if kind is not None:
            token.type = kind
        return token

    # --- running the parser -------------------------------------------------------------------

    def lex(self, text: str) -> list[Token]:
        """The tokens of ``text`` (LarkError when it does not lex, e.g. an open string)."""
        return list(self.lark.lex(text))

    def run(self, tokens: Iterable[Token]) -> list | None:
        """The state stack after feeding ``tokens`` from the start of a statement; None when they are
        not the beginning of any statement."""
        stack = [self.start_state]
        for token in tokens:
            stack = self.feed(stack, token.type)
            if stack is None:
                return None
        return stack

    def feed(self, stack: list, terminal: str) -> list | None:
        """The stack after shifting ``terminal`` (with the reductions before it), or None."""
        stack = list(stack)
        while True:
            action = self.states[stack[-1]].get(terminal)
            if action is None:
                return None
            kind, arg = action
            if kind is Shift:
                stack.append(arg)
                return stack
            size = len(arg.expansion)
            if size:
                del stack[-size:]
            stack.append(self.states[stack[-1]][arg.origin.name][1])

    def state_before_shift(self, stack: list, terminal: str):
        """The state in which ``terminal`` would be shifted (after the reductions it causes)."""
        stack = list(stack)
        while True:
            action = self.states[stack[-1]].get(terminal)
            if action is None:
                return None
            kind, arg = action
            if kind is Shift:
                return stack[-1]
            size = len(arg.expansion)
            if size:
                del stack[-size:]
            stack.append(self.states[stack[-1]][arg.origin.name][1])

    def acceptable(self, stack: list) -> set[str]:
        """Every terminal that can come next (exact: reductions are simulated)."""
        return {t for t in self.states[stack[-1]] if t.isupper() and self.state_before_shift(stack, t) is not None}

    def items(self, state) -> tuple[Item, ...]:
        cached = self._items.get(state)
        if cached is None:
            cached = tuple(Item(rule_name(rp.rule.origin.name), rp.index,
                                tuple(s.name for s in rp.rule.expansion)) for rp in state)
            self._items[state] = cached
        return cached

    # --- what a word at the cursor means ------------------------------------------------------

    def is_keyword_use(self, state, terminal: str) -> bool:
        """Whether keyword ``terminal`` is meant as a keyword in ``state`` (not only as a name, as an
        unreserved keyword may be)."""
        items = self.items(state)
        pending, seen = [terminal], set()
        while pending:
            symbol = pending.pop()
            if symbol in seen:
                continue
            seen.add(symbol)
            for item in items:
                if item.next != symbol:
                    continue
                if item.rule in NAME_RULES:
                    continue
                if item.rule in KEYWORD_GROUPS and item.index == 0:
                    pending.append(item.rule)
                    continue
                return True
        return False

    def name_contexts(self, state) -> list[Item]:
        """The items waiting for a name in ``state``: each item whose next symbol leads to IDENT
        through name rules (``relation: . ident '=' term``, ``table_name: ident '.' . ident``...)."""
        items = self.items(state)
        found: list[Item] = []
        pending, seen = ["IDENT"], set()
        while pending:
            symbol = pending.pop()
            if symbol in seen:
                continue
            seen.add(symbol)
            for item in items:
                if item.next != symbol:
                    continue
                if item.rule in NAME_RULES and item.index == 0:
                    pending.append(item.rule)
                else:
                    found.append(item)
        return found

    def parents(self, state, rule: str) -> list[Item]:
        """Items of ``state`` whose next symbol is ``rule`` (who is waiting for it)."""
        return [item for item in self.items(state) if item.next is not None and rule_name(item.next) == rule]


_facts: GrammarFacts | None = None
_lock = threading.Lock()


def grammar_facts() -> GrammarFacts:
    """The process-wide GrammarFacts, built on first use."""
    global _facts
    if _facts is None:
        with _lock:
            if _facts is None:
                _facts = GrammarFacts()
    return _facts


@lru_cache(maxsize=None)
def statement_keywords() -> tuple[str, ...]:
    """The keywords that can start a CQL statement, upper case."""
    facts = grammar_facts()
    stack = [facts.start_state]
    return tuple(sorted(facts.keyword_text[t].upper() for t in facts.acceptable(stack)
                        if t in facts.keyword_text))


__all__ = ["GrammarFacts", "Item", "grammar_facts", "statement_keywords", "LarkError"]
