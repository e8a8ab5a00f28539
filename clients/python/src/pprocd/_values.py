"""Python values to and from google.protobuf.Value (JSON-shaped, never pickle).

Sent: None, bool, int, float, str, lists and tuples, and dicts with str keys,
nested. Received: the same shapes; a number without a fraction comes back as
an int (JSON has one number type), a binary result as bytes.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Sequence

from google.protobuf.struct_pb2 import NULL_VALUE, ListValue, Struct, Value

_NULL = Value(null_value=NULL_VALUE)
# Integers up to 2**53 survive a double exactly; larger ones lose precision.
_EXACT = 2 ** 53


def to_value(obj: Any) -> Value:
    """Converts a JSON-shaped Python value to a google.protobuf.Value."""
    kind = type(obj)
    if kind is int or kind is float:
        return Value(number_value=obj)
    if kind is str:
        return Value(string_value=obj)
    if obj is None:
        return Value(null_value=NULL_VALUE)
    if kind is bool:
        return Value(bool_value=obj)
    if isinstance(obj, Value):
        return obj
    if isinstance(obj, (list, tuple)):
        return Value(list_value=ListValue(values=[to_value(item) for item in obj]))
    if isinstance(obj, Mapping):
        fields = {}
        for key, item in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"cannot send a dict with key {key!r} to pprocd: keys must be str")
            fields[key] = to_value(item)
        return Value(struct_value=Struct(fields=fields))
    if isinstance(obj, bool):
        return Value(bool_value=bool(obj))
    if isinstance(obj, int):
        return Value(number_value=int(obj))
    if isinstance(obj, float):
        return Value(number_value=float(obj))
    if isinstance(obj, str):
        return Value(string_value=str(obj))
    raise TypeError(f"cannot send {type(obj).__name__} {obj!r} to pprocd: values must be "
                    "JSON-shaped (None, bool, int, float, str, list, tuple, dict with str keys)")


def from_value(value: Value) -> Any:
    """Converts a google.protobuf.Value to plain Python (see the module doc)."""
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        number = value.number_value
        if number.is_integer() and -_EXACT <= number <= _EXACT:
            return int(number)
        return number
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "list_value":
        return [from_value(item) for item in value.list_value.values]
    if kind == "struct_value":
        return {key: from_value(item) for key, item in value.struct_value.fields.items()}
    return None


ParameterNames = Callable[[str], Optional[Sequence[str]]]


def arguments_to_obj(callable_name: str, args: Sequence[Any], kwargs: Dict[str, Any],
                     parameter_names: Optional[ParameterNames] = None) -> Any:
    """Packs one invocation's arguments into the one value the server binds,
    as a plain Python value (see :func:`arguments_to_value`)."""
    if not kwargs:
        if not args:
            return None
        if len(args) == 1:
            return args[0]
        return list(args)
    if not args:
        return kwargs
    names = parameter_names(callable_name) if parameter_names is not None else None
    if names is None:
        raise TypeError(f"{callable_name}: cannot mix positional and keyword arguments without "
                        "knowing its parameters")
    if len(args) > len(names):
        raise TypeError(f"{callable_name} takes {len(names)} arguments, "
                        f"{len(args)} positional given")
    named: Dict[str, Any] = dict(zip(names, args))
    for key, item in kwargs.items():
        if key in named:
            raise TypeError(f"{callable_name} got multiple values for argument {key!r}")
        named[key] = item
    return named


def arguments_to_value(callable_name: str, args: Sequence[Any], kwargs: Dict[str, Any],
                       parameter_names: Optional[ParameterNames] = None) -> Value:
    """Packs one invocation's arguments into the one Value the server binds.

    No arguments: null (every parameter takes its default). One positional
    argument: the value itself. Several: a list, spread over the parameters
    in order. Keywords only: a struct naming them. Positional and keywords
    together: a struct, with the positional ones named after the callable's
    parameters (looked up once through ``parameter_names``).
    """
    if not kwargs and not args:
        return _NULL
    return to_value(arguments_to_obj(callable_name, args, kwargs, parameter_names))
