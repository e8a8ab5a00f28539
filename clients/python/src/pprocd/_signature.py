"""How an input binds to a callable's parameters, checked before sending.

The server refuses a whole call when one input does not bind (the call ends
with INVALID_ARGUMENT), which would fail every other input of a long-lived
call. So inputs are checked here first, by the rules the server applies
(``ListCallables`` gives the parameters), and one that does not bind raises
:class:`InvalidItem` where it was added.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from google.protobuf.struct_pb2 import Value

from .v1 import callable_pb2

_EXACT = 9007199254740992.0

_TYPE_NAMES: Dict[int, str] = {
    callable_pb2.PARAMETER_TYPE_INTEGER: "an integer",
    callable_pb2.PARAMETER_TYPE_NUMBER: "a number",
    callable_pb2.PARAMETER_TYPE_STRING: "a string",
    callable_pb2.PARAMETER_TYPE_BOOLEAN: "a boolean",
    callable_pb2.PARAMETER_TYPE_LIST: "a list",
    callable_pb2.PARAMETER_TYPE_STRUCT: "a struct",
}

_KIND_NAMES = {
    "null_value": "null", "number_value": "number", "string_value": "string",
    "bool_value": "boolean", "struct_value": "struct", "list_value": "list",
}

_KIND_OF_TYPE: Dict[int, str] = {
    callable_pb2.PARAMETER_TYPE_NUMBER: "number_value",
    callable_pb2.PARAMETER_TYPE_STRING: "string_value",
    callable_pb2.PARAMETER_TYPE_BOOLEAN: "bool_value",
    callable_pb2.PARAMETER_TYPE_LIST: "list_value",
    callable_pb2.PARAMETER_TYPE_STRUCT: "struct_value",
}


class Signature:
    """The parameters of one callable, as ListCallables describes them."""

    def __init__(self, described: callable_pb2.Callable) -> None:
        self.name = described.name
        self.kind = described.kind
        self.params: List[Tuple[str, int, bool]] = [
            (p.name, p.type, p.required) for p in described.parameters]
        self.names = [p[0] for p in self.params]
        # required_from[k]: the first required parameter at position k or
        # later (None if none): what a k-argument input leaves unbound.
        self._required_from: List[Optional[str]] = [None] * (len(self.params) + 1)
        for position in range(len(self.params) - 1, -1, -1):
            name, _, required = self.params[position]
            self._required_from[position] = name if required else self._required_from[position + 1]
        self._any_first = (bool(self.params)
                           and self.params[0][1] in (callable_pb2.PARAMETER_TYPE_ANY,
                                                     callable_pb2.PARAMETER_TYPE_UNSPECIFIED))
        self.binds_anything = not self.params or (len(self.params) == 1 and self._any_first)
        """True when every input binds (no parameters, or one of any type):
        nothing to check."""

    def _check_arg(self, param: Tuple[str, int, bool], value: Value) -> Optional[str]:
        name, kind_wanted, _ = param
        kind = value.WhichOneof("kind")
        if kind_wanted == callable_pb2.PARAMETER_TYPE_INTEGER:
            number = value.number_value
            ok = (kind == "number_value" and math.isfinite(number)
                  and math.trunc(number) == number and abs(number) <= _EXACT)
        elif kind_wanted in _KIND_OF_TYPE:
            ok = kind == _KIND_OF_TYPE[kind_wanted]
        else:
            ok = kind is not None
        if ok:
            return None
        wanted = _TYPE_NAMES.get(kind_wanted, "any value")
        got = _KIND_NAMES.get(kind or "", "nothing")
        return f"parameter '{name}' of {self.name} must be {wanted}, got {got}"

    def _missing_from(self, position: int) -> Optional[str]:
        name = self._required_from[position]
        return f"parameter '{name}' of {self.name} is required" if name is not None else None

    def check(self, value: Value) -> Optional[str]:
        """Why ``value`` does not bind to the parameters, or None if it does."""
        count = len(self.params)
        if count == 0:
            return None
        kind = value.WhichOneof("kind")
        if count > 1 and kind == "list_value":
            values = value.list_value.values
            if len(values) > count:
                return f"{self.name} takes at most {count} arguments, got {len(values)}"
            for param, item in zip(self.params, values):
                problem = self._check_arg(param, item)
                if problem:
                    return problem
            return self._missing_from(len(values))
        if count > 1 and kind == "struct_value":
            bound = [False] * count
            for key, item in value.struct_value.fields.items():
                if key not in self.names:
                    return f"{self.name} has no parameter '{key}'"
                position = self.names.index(key)
                problem = self._check_arg(self.params[position], item)
                if problem:
                    return problem
                bound[position] = True
            for (name, _, required), present in zip(self.params, bound):
                if required and not present:
                    return f"parameter '{name}' of {self.name} is required"
            return None
        if not self._any_first or value.WhichOneof("kind") is None:
            problem = self._check_arg(self.params[0], value)
            if problem:
                return problem
        return self._missing_from(1)

    # The same rules on plain Python values, as the packed form sends them
    # (JSON: a NaN or an infinity is a string there).

    def _check_obj_arg(self, param: Tuple[str, int, bool], obj: Any) -> Optional[str]:
        name, kind_wanted, _ = param
        kind = kind_of(obj)
        if kind_wanted == callable_pb2.PARAMETER_TYPE_INTEGER:
            ok = (kind == "number_value" and math.trunc(obj) == obj and abs(obj) <= _EXACT)
        elif kind_wanted in _KIND_OF_TYPE:
            ok = kind == _KIND_OF_TYPE[kind_wanted]
        else:
            ok = True
        if ok:
            return None
        wanted = _TYPE_NAMES.get(kind_wanted, "any value")
        return f"parameter '{name}' of {self.name} must be {wanted}, got {_KIND_NAMES[kind]}"

    def check_obj(self, obj: Any) -> Optional[str]:
        """Like :meth:`check`, for a plain Python value as the packed form
        sends it."""
        count = len(self.params)
        if count == 0:
            return None
        kind = kind_of(obj)
        if count > 1 and kind == "list_value":
            if len(obj) > count:
                return f"{self.name} takes at most {count} arguments, got {len(obj)}"
            for param, item in zip(self.params, obj):
                problem = self._check_obj_arg(param, item)
                if problem:
                    return problem
            return self._missing_from(len(obj))
        if count > 1 and kind == "struct_value":
            bound = [False] * count
            for key, item in obj.items():
                if key not in self.names:
                    return f"{self.name} has no parameter '{key}'"
                position = self.names.index(key)
                problem = self._check_obj_arg(self.params[position], item)
                if problem:
                    return problem
                bound[position] = True
            for (name, _, required), present in zip(self.params, bound):
                if required and not present:
                    return f"parameter '{name}' of {self.name} is required"
            return None
        if not self._any_first:
            problem = self._check_obj_arg(self.params[0], obj)
            if problem:
                return problem
        return self._missing_from(1)

    def first_problem(self, items: Sequence[Any]) -> Optional[Tuple[int, str]]:
        """(position, reason) of the first of ``items`` that does not bind,
        or None when all do."""
        if self.binds_anything:
            return None
        check = self.check_obj
        for position, obj in enumerate(items):
            problem = check(obj)
            if problem:
                return position, problem
        return None


def kind_of(obj: Any) -> str:
    """The google.protobuf.Value kind a plain value stands for in JSON."""
    kind = type(obj)
    if kind is int:
        return "number_value"
    if kind is float:
        return "number_value" if math.isfinite(obj) else "string_value"
    if kind is str:
        return "string_value"
    if obj is None:
        return "null_value"
    if kind is bool:
        return "bool_value"
    if isinstance(obj, (list, tuple)):
        return "list_value"
    if isinstance(obj, Mapping):
        return "struct_value"
    if isinstance(obj, int):
        return "number_value"
    if isinstance(obj, float):
        return "number_value" if math.isfinite(obj) else "string_value"
    if isinstance(obj, str):
        return "string_value"
    return "null_value"  # not JSON-shaped: the encoder refuses it
