"""References to Python functions, and the items that call them.

A module-level Python function may be passed wherever a registered
callable's name is taken. The client never sends code: it sends a
:class:`pprocd.v1.PythonFunction` reference (the interpreter, the module's
name and file, the qualified name, the import path) and the farm imports the
module in a Python template process of its own and forks workers from it.

So only what the farm can import by name may be passed: a ``def`` at module
level of a ``.py`` file (a script's ``__main__`` included), or a function
reached from there by a dotted name (a static method). Lambdas, closures and
nested functions, bound methods of instances, ``functools.partial`` objects,
built-ins and functions typed into an interactive session are refused with
a :class:`TypeError` that says what to pass instead.

Items: the farm binds each item to the function's parameters by the
service's rule (for a function of exactly one parameter, a positional one,
the value is that argument; otherwise a list spreads over the positional parameters, an
object gives keyword arguments, null calls with none, any other value is
the first argument). :func:`map_item` and :meth:`FunctionRef.call_item`
build the item that reproduces the call the user wrote.

Thread-safety: references are immutable once made; the cache is guarded.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import threading
import types
import weakref
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from .v1 import callable_pb2

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)

_ADVICE = "Move it to module level, or register a callable by name."


def _refusal(what: str, advice: str = _ADVICE) -> TypeError:
    return TypeError("pprocd runs functions by reference: pass a module-level function "
                     f"(def in a .py file); {what}. {advice}")


class FunctionRef:
    """A module-level Python function as the farm finds it: by module and
    qualified name. Hashable (equal references share the farm's calls);
    ``str()`` is ``module.qualname``, the name errors and results carry."""

    __slots__ = ("function", "interpreter", "module", "module_file", "qualname", "sys_path",
                 "channel", "_parameters", "_signature", "_positional", "_key", "__weakref__")

    def __init__(self, function: Callable[..., Any], interpreter: str, module: str,
                 module_file: str, qualname: str, sys_path: Sequence[str],
                 channel: bool = False) -> None:
        self.function = function
        self.interpreter = interpreter
        self.module = module
        self.module_file = module_file
        self.qualname = qualname
        self.sys_path: Tuple[str, ...] = tuple(sys_path)
        self.channel = bool(channel)
        parameters = _signature_parameters(function)
        if channel:
            if not parameters or parameters[0].kind not in _POSITIONAL:
                raise TypeError(f"{self}: a function started with a channel takes the channel as "
                                "its first parameter (def f(channel, ...))")
            parameters = parameters[1:]
        self._parameters = parameters
        self._signature = inspect.Signature(parameters)
        # (required, most) positional arguments when every parameter is a
        # plain positional one: such calls are sent as they are, unbound.
        self._positional: Optional[Tuple[int, int]] = None
        if all(p.kind in _POSITIONAL for p in parameters):
            required = sum(1 for p in parameters if p.default is inspect.Parameter.empty)
            self._positional = (required, len(parameters))
        self._key = (interpreter, module, module_file, qualname, self.sys_path, self.channel)

    def __repr__(self) -> str:
        kind = " (channel)" if self.channel else ""
        return f"<pprocd.FunctionRef {self}{kind} from {self.module_file}>"

    def __str__(self) -> str:
        return f"{self.module}.{self.qualname}"

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FunctionRef) and other._key == self._key

    def with_channel(self, channel: bool) -> "FunctionRef":
        """This reference, as a channel function or not."""
        if channel == self.channel:
            return self
        return function_ref(self.function, channel=channel)

    def message(self) -> callable_pb2.PythonFunction:
        """The reference as the service takes it."""
        return callable_pb2.PythonFunction(
            interpreter=self.interpreter, module=self.module, module_file=self.module_file,
            qualname=self.qualname, sys_path=list(self.sys_path), channel=self.channel)

    @property
    def one_parameter(self) -> bool:
        """True when the farm passes an item whole as the only argument."""
        return _one_parameter(self._parameters)

    def map_item(self, value: Any) -> Any:
        """The item that calls ``function(value)`` (pmap, executor.map)."""
        return map_item(self._parameters, value)

    def map_items(self, values: Sequence[Any]) -> Sequence[Any]:
        """:meth:`map_item` of each value (``values`` itself when nothing
        needs wrapping, as for every function of one parameter)."""
        if _one_parameter(self._parameters):
            return values
        wrapped = _WRAPPED
        return [[value] if isinstance(value, wrapped) else value for value in values]

    def call_item(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        """The item that calls ``function(*args, **kwargs)`` (submit,
        manage, start); TypeError, as Python's own, when they do not bind."""
        positional = self._positional
        if positional is not None and not kwargs and positional[0] <= len(args) <= positional[1]:
            if positional[1] == 1:
                return args[0]
            return list(args)
        return call_item(self._parameters, str(self), args, kwargs, self._signature)


Target = Union[str, FunctionRef]
"""What a call runs: a registered callable's name or a function reference."""


def _signature_parameters(function: Callable[..., Any]) -> List[inspect.Parameter]:
    try:
        return list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return []


# Values that the farm would spread or name: an item that is one of them is
# wrapped in a list to reach a function of several parameters whole.
_WRAPPED = (list, tuple, dict, type(None))


def _one_parameter(parameters: Sequence[inspect.Parameter]) -> bool:
    """True for a function whose only parameter is a positional one: the
    farm passes it each item whole."""
    return len(parameters) == 1 and parameters[0].kind in _POSITIONAL


def map_item(parameters: Sequence[inspect.Parameter], value: Any) -> Any:
    """The item for ``function(value)``: the value itself for a function of
    one positional parameter; else ``[value]`` when the value would
    otherwise be spread or named (a list, tuple, dict or None), else the
    value (the first argument)."""
    if _one_parameter(parameters):
        return value
    if isinstance(value, _WRAPPED):
        return [value]
    return value


def call_item(parameters: Sequence[inspect.Parameter], label: str, args: Sequence[Any],
              kwargs: Mapping[str, Any], signature: Optional[inspect.Signature] = None) -> Any:
    """The item for ``function(*args, **kwargs)``, given the function's
    ``parameters`` (without a channel's). Raises TypeError when the
    arguments do not bind, or when the call cannot be written as one item
    (values for ``*args`` and keyword arguments together)."""
    if signature is None:
        signature = inspect.Signature(list(parameters))
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as error:
        raise TypeError(f"{label}(): {error}") from None
    if _one_parameter(parameters):
        bound.apply_defaults()
        return bound.arguments[parameters[0].name]
    if not kwargs:
        return list(args)
    # Keywords were used: the positional form when the bound parameters are
    # a run of positional ones from the first, else every argument by name.
    names = list(bound.arguments)
    prefix = [p.name for p in parameters[:len(names)]]
    if names == prefix and all(p.kind in _POSITIONAL for p in parameters[:len(names)]):
        return [bound.arguments[name] for name in names]
    by_name: Dict[str, Any] = {}
    for parameter in parameters:
        if parameter.name not in bound.arguments:
            continue
        value = bound.arguments[parameter.name]
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                raise TypeError(f"{label}(): pprocd cannot pass values for {parameter} together "
                                "with keyword arguments: pass them all by position")
        elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
            by_name.update(value)
        else:
            by_name[parameter.name] = value
    return by_name


# Building references ---------------------------------------------------------

_cache_lock = threading.Lock()
_cache: "weakref.WeakKeyDictionary[Any, Dict[bool, FunctionRef]]" = weakref.WeakKeyDictionary()


def function_ref(function: Any, channel: bool = False) -> FunctionRef:
    """The reference to ``function`` (made once per function); TypeError when
    it cannot be passed by reference, saying what to pass instead."""
    try:
        with _cache_lock:
            found = _cache.get(function, {}).get(channel)
    except TypeError:  # not weak-referenceable: not a function either
        found = None
    if found is not None:
        return found
    ref = _make_ref(function, channel)
    try:
        with _cache_lock:
            _cache.setdefault(function, {})[channel] = ref
    except TypeError:
        pass
    return ref


def as_target(callable: Any, channel: bool = False) -> Target:
    """What a call runs: a registered callable's name (a str, unchanged) or
    the reference to a Python function (see :func:`function_ref`); a
    :class:`FunctionRef` is taken as it is."""
    if isinstance(callable, str):
        if not callable:
            raise ValueError("the callable's name is empty")
        return callable
    if isinstance(callable, FunctionRef):  # made by the caller: kept as it is
        return callable
    return function_ref(callable, channel)


def target_fields(target: Target) -> Dict[str, Any]:
    """The request fields that name ``target``: ``callable`` or ``function``."""
    if isinstance(target, FunctionRef):
        return {"function": target.message()}
    return {"callable": target}


def _describe(function: Any) -> str:
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", None)
    return str(name) if name else repr(function)


def _make_ref(function: Any, channel: bool) -> FunctionRef:
    if isinstance(function, functools.partial):
        raise _refusal(f"{function!r} is a functools.partial",
                       "Pass the function itself and give its arguments with each call.")
    if isinstance(function, (staticmethod, classmethod)):
        function = function.__func__
    if not callable(function):
        raise TypeError("expected a registered callable's name (str) or a module-level Python "
                        f"function, got {type(function).__name__} {function!r}")
    if isinstance(function, (types.BuiltinFunctionType, types.BuiltinMethodType)) or (
            not isinstance(function, (types.FunctionType, types.MethodType, type))
            and type(function).__module__ == "builtins"):
        raise _refusal(f"{_describe(function)} is a built-in function",
                       "Call it from a module-level def, or register a callable by name.")
    if isinstance(function, types.MethodType) and not isinstance(function.__self__, type):
        raise _refusal(f"{_describe(function)} is a method bound to a "
                       f"{type(function.__self__).__name__} instance",
                       "Pass a module-level function or a static method, and the instance's "
                       "data as arguments.")
    qualname = getattr(function, "__qualname__", None)
    module_name = getattr(function, "__module__", None)
    if not isinstance(qualname, str) or not isinstance(module_name, str):
        raise _refusal(f"{function!r} is a {type(function).__name__} object, not a function")
    if getattr(function, "__name__", None) == "<lambda>":
        raise _refusal(f"{qualname} is a lambda")
    if "<locals>" in qualname:
        raise _refusal(f"{qualname} is defined inside another function (a closure or nested "
                       "function)")
    module = sys.modules.get(module_name)
    module_file = getattr(module, "__file__", None) if module is not None else None
    if not module_file:
        raise _refusal(f"{qualname} comes from module {module_name!r}, which has no file (an "
                       "interactive session or python -c)",
                       "Define it in a module or script file.")
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if not (found is function or (isinstance(function, types.MethodType) and found == function)):
        raise _refusal(f"{module_name}.{qualname} does not name this function in its module "
                       "(was it replaced, decorated or redefined?)")
    if module_name == "__mp_main__":
        # A script's function seen from a worker of the farm (or of
        # multiprocessing), where the script is imported as __mp_main__: the
        # farm imports a script the same way from its "__main__" reference.
        module_name = "__main__"
    interpreter = sys.executable
    if not interpreter:
        raise TypeError("pprocd runs functions by reference with this interpreter, but "
                        "sys.executable is empty: register a callable by name instead")
    return FunctionRef(function, os.path.abspath(interpreter), module_name,
                       os.path.realpath(module_file), qualname, _import_path(), channel)


def _import_path() -> List[str]:
    """The current sys.path, absolute, existing entries only, in order."""
    entries: List[str] = []
    for entry in sys.path:
        if not isinstance(entry, str):
            continue
        path = os.path.abspath(entry or os.getcwd())
        if path not in entries and os.path.exists(path):
            entries.append(path)
    return entries


__all__ = ["FunctionRef", "Target", "as_target", "call_item", "function_ref", "map_item",
           "target_fields"]
