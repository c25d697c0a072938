"""``@node_class``: ``@dataclass(frozen=True, slots=True)`` for AST nodes, at a fraction of the import cost.

``dataclass()`` compiles six to eight methods per class from generated source (``exec``), most of
an AST import.  ``node_class`` gives a class the same thing — ``__dataclass_fields__`` (so
``dataclasses.fields``/``replace``/``asdict`` work), the same ``__init__`` signature, ``__repr__``,
``__eq__`` and ``__hash__`` over the compared fields, frozen ``__setattr__``/``__delattr__``,
``__slots__``, ``__match_args__`` and the pickling hooks — but compiles only ``__init__``, and that
on first use, and builds the other methods from closures shared by every class.  It supports what
the AST uses: annotated fields with plain defaults or ``dataclasses.field(...)`` defaults,
inheritance, no ClassVar/InitVar, no ``__post_init__``; tests/language/test_nodeclass.py checks it
against ``dataclass()`` itself.
"""
from __future__ import annotations

import dataclasses
import reprlib
from dataclasses import MISSING, Field, FrozenInstanceError
from operator import attrgetter

# the params object dataclass(frozen=True) records, taken from dataclass() itself
_PARAMS = dataclasses.dataclass(frozen=True)(type("_Params", (), {})).__dataclass_params__
# the marker dataclasses.fields() looks for (dataclasses._FIELD), taken from a field dataclass() made
_FIELD_MARK = dataclasses.fields(
    dataclasses.dataclass(type("_Mark", (), {"__annotations__": {"x": "int"}})))[0]._field_type


def node_class(cls: type) -> type:
    """The class made as ``@dataclass(frozen=True, slots=True)`` would make it."""
    fields: dict[str, Field] = {}
    for base in cls.__mro__[-1:0:-1]:
        fields.update(getattr(base, "__dataclass_fields__", {}))
    own = []
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        default = cls.__dict__.get(name, MISSING)
        f = default if isinstance(default, Field) else dataclasses.field(default=default)
        f.name, f.type, f._field_type = name, annotation, _FIELD_MARK
        if f.kw_only is MISSING:
            f.kw_only = False
        if isinstance(f.default, (list, dict, set)):
            raise ValueError(f"mutable default {type(f.default)} for field {name} is not allowed")
        fields[name] = f
        own.append(name)
    all_fields = tuple(fields.values())
    names = tuple(fields)
    compared = tuple(f.name for f in all_fields if f.compare)
    hashed = tuple(f.name for f in all_fields if (f.compare if f.hash is None else f.hash))
    shown = tuple(f.name for f in all_fields if f.repr)

    body = dict(cls.__dict__)
    for name in own:
        body.pop(name, None)
    body.pop("__dict__", None)
    body.pop("__weakref__", None)
    base_slots = {s for base in cls.__mro__[1:] for s in base.__dict__.get("__slots__", ())}
    body["__slots__"] = tuple(name for name in own if name not in base_slots)
    body["__dataclass_params__"] = _PARAMS
    body["__dataclass_fields__"] = fields
    body.setdefault("__match_args__", tuple(f.name for f in all_fields if f.init and not f.kw_only))
    new = type(cls)(cls.__name__, cls.__bases__, body)
    new.__qualname__ = qualname = cls.__qualname__

    def method(function, name):
        function.__name__ = name
        function.__qualname__ = f"{qualname}.{name}"
        function.__module__ = cls.__module__
        if name not in body:
            setattr(new, name, function)

    if "__init__" not in body:
        new.__init__ = _LazyInit(all_fields, qualname, cls.__module__)
    method(_make_repr(shown), "__repr__")
    method(_make_eq(_tuple_getter(compared)), "__eq__")
    if "__hash__" not in cls.__dict__:
        method(_make_hash(_tuple_getter(hashed)), "__hash__")
    method(_make_setattr(cls, names), "__setattr__")
    method(_make_delattr(cls, names), "__delattr__")
    if "__getstate__" not in body:
        new.__getstate__ = _getstate
    if "__setstate__" not in body:
        new.__setstate__ = _setstate
    if new.__doc__ is None:
        import inspect
        new.__doc__ = new.__name__ + str(inspect.signature(new)).replace(" -> None", "")
    return new


def _tuple_getter(names: tuple[str, ...]):
    if not names:
        return lambda self: ()
    if len(names) == 1:
        name = names[0]
        return lambda self: (getattr(self, name),)
    return attrgetter(*names)


class _LazyInit:
    """A class's ``__init__`` compiled on first use (most node classes are never built in a given
    process): the first lookup, by a call or by ``inspect``, puts the function in its place."""

    __slots__ = ("fields", "qualname", "module")

    def __init__(self, fields: tuple[Field, ...], qualname: str, module: str):
        self.fields, self.qualname, self.module = fields, qualname, module

    def __get__(self, instance, owner=None):
        if owner is None:
            owner = type(instance)
        function = _make_init(self.fields)
        function.__name__, function.__qualname__ = "__init__", f"{self.qualname}.__init__"
        function.__module__ = self.module
        for klass in owner.__mro__:
            if klass.__dict__.get("__init__") is self:
                type.__setattr__(klass, "__init__", function)
                break
        return function if instance is None else function.__get__(instance, owner)


def _make_init(fields: tuple[Field, ...]):
    positional = [f for f in fields if f.init and not f.kw_only]
    keyword = [f for f in fields if f.init and f.kw_only]
    namespace: dict = {"__dataclass_builtins_object__": object}
    annotations = {}

    def param(f: Field) -> str:
        annotations[f.name] = f.type
        if f.default is not MISSING:
            namespace[f"_dflt_{f.name}"] = f.default
            return f"{f.name}=_dflt_{f.name}"
        if f.default_factory is not MISSING:
            raise TypeError("node_class does not support default_factory")
        return f.name

    params = ["self", *(param(f) for f in positional)]
    if keyword:
        params += ["*", *(param(f) for f in keyword)]
    lines = [f"  __dataclass_builtins_object__.__setattr__(self,{f.name!r},{f.name})"
             for f in fields if f.init]
    source = f"def __init__({','.join(params)}):\n" + ("\n".join(lines) or "  pass")
    exec(source, namespace)     # noqa: S102 - source built above from the class's field names
    function = namespace["__init__"]
    function.__annotations__ = {**annotations, "return": None}
    return function


def _make_repr(shown: tuple[str, ...]):
    @reprlib.recursive_repr("...")
    def __repr__(self):
        return (self.__class__.__qualname__ + "("
                + ", ".join(f"{name}={getattr(self, name)!r}" for name in shown) + ")")
    return __repr__


def _make_eq(values):
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented
    return __eq__


def _make_hash(values):
    def __hash__(self):
        return hash(values(self))
    return __hash__


def _make_setattr(cls: type, names: tuple[str, ...]):
    # like dataclass(slots=True), ``cls`` is the class before slots were added
    def __setattr__(self, name, value):
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)
    return __setattr__


def _make_delattr(cls: type, names: tuple[str, ...]):
    def __delattr__(self, name):
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)
    return __delattr__


def _getstate(self):
    return [getattr(self, f.name) for f in dataclasses.fields(self)]


def _setstate(self, state):
    for f, value in zip(dataclasses.fields(self), state):
        object.__setattr__(self, f.name, value)
