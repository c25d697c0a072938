"""``@node_class`` makes AST classes that behave exactly as ``@dataclass(frozen=True, slots=True)``."""
from __future__ import annotations

import copy
import dataclasses
import inspect

import pytest

from cqlpy.language import ast, parse_one
from cqlpy.language.ast.nodeclass import node_class


def _twins():
    """A node_class hierarchy and the same classes made by dataclass(), each with a defaults mix."""
    made = {}
    for decorate in (node_class, dataclasses.dataclass(frozen=True, slots=True)):
        @decorate
        class Base:
            """A base."""
            span: int | None = dataclasses.field(default=None, compare=False, repr=False, kw_only=True)

        @decorate
        class Leaf(Base):
            """A leaf."""
            name: str
            items: tuple[int, ...] = ()
            flag: bool = False

        @decorate
        class Empty(Base):
            pass

        made[decorate is node_class] = (Base, Leaf, Empty)
    return made[True], made[False]


def _outcome(action):
    try:
        return ("ok", action())
    except Exception as error:      # noqa: BLE001 - the twins must fail alike
        return ("error", type(error).__name__, str(error))


def test_node_class_matches_dataclass():
    (_, leaf, empty), (_, real_leaf, real_empty) = _twins()
    for ours, theirs in ((leaf, real_leaf), (empty, real_empty)):
        assert str(inspect.signature(ours)) == str(inspect.signature(theirs))
        assert ours.__init__.__annotations__ == theirs.__init__.__annotations__
        assert ours.__match_args__ == theirs.__match_args__ and ours.__slots__ == theirs.__slots__
        assert repr(dataclasses.fields(ours)) == repr(dataclasses.fields(theirs))
        assert repr(ours.__dataclass_params__) == repr(theirs.__dataclass_params__)
        assert ours.__doc__ == theirs.__doc__ and ours.__qualname__ == theirs.__qualname__
        assert not hasattr(ours(*(["x"] if ours is leaf else [])), "__dict__")
    a, b = leaf("x", (1, 2), span=3), real_leaf("x", (1, 2), span=3)
    assert repr(a) == repr(b) == "_twins.<locals>.Leaf(name='x', items=(1, 2), flag=False)"
    assert a == leaf("x", (1, 2), span=9) and a != leaf("y") and a != b and hash(a) == hash(b)
    assert (a == 1) is False and leaf.__eq__(a, 1) is NotImplemented
    assert empty() == empty(span=1) and repr(empty()) == repr(real_empty())
    assert hash(empty()) == hash(real_empty())
    for action in (lambda o: setattr(o, "name", "z"), lambda o: setattr(o, "other", 1),
                   lambda o: delattr(o, "name"), lambda o: delattr(o, "other"), lambda o: o.span,
                   lambda o: dataclasses.replace(o, name="r").name, lambda o: dataclasses.asdict(o),
                   lambda o: type(o)(), lambda o: type(o)("a", "b", "c", "d"),
                   lambda o: type(o)(nope=1), lambda o: o.__getstate__()):
        assert _outcome(lambda: action(a)) == _outcome(lambda: action(b))
    assert copy.deepcopy(a) == a and copy.copy(a).span == 3     # through __getstate__/__setstate__
    node = parse_one("UPDATE ks.t SET v = v + [1] WHERE k = ? IF EXISTS")
    assert copy.deepcopy(node) == node and copy.deepcopy(node).span == node.span


@pytest.mark.parametrize("cls", [c for c in vars(ast).values()
                                 if isinstance(c, type) and issubclass(c, ast.Node)])
def test_every_ast_class_is_a_frozen_slotted_dataclass(cls):
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    assert "__slots__" in cls.__dict__ and cls.__doc__
    names = [f.name for f in dataclasses.fields(cls)]
    assert names[0] == "span" and list(inspect.signature(cls).parameters)[-1] == "span"


def test_parsed_nodes_compare_hash_and_print():
    a = parse_one("SELECT a, b FROM ks.t WHERE k = 1")
    b = parse_one("select a,b from ks.t where k=1")
    assert a == b and hash(a) == hash(b) and a.span != b.span
    assert repr(a).startswith("Select(") and "span" not in repr(a)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.table = None


def test_init_is_compiled_on_first_use_by_a_call_or_by_inspect():
    (base, leaf, _), _real = _twins()
    assert leaf("x", flag=True) == leaf("x", (), True)              # first use: a call
    assert inspect.isfunction(leaf.__dict__["__init__"])
    assert leaf.__init__.__qualname__ == "_twins.<locals>.Leaf.__init__"
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'name'"):
        leaf()
    (base, leaf, _), _real = _twins()

    class Child(leaf):                                                # a plain subclass, first use
        pass

    assert Child("y").name == "y" and inspect.isfunction(leaf.__dict__["__init__"])
    assert str(inspect.signature(base)) == "(*, span: 'int | None' = None) -> None"
