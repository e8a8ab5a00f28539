"""Serve one Python function as a pprocd command callable.

::

    python -m pprocd.worker [--path DIR]... [--name NAME] TARGET
    python -m pprocd.worker [--path DIR]... [--name NAME] --describe TARGET

TARGET is ``module:function`` (the module importable from the working
directory or a ``--path`` directory) or ``path/to/file.py:function``; the
function may be an attribute path such as ``module:Class.method``.

The runtime speaks the persistent protocol of pprocd's command callables
(``mode = "persistent"`` in a ``[[callable]]`` table of the server's config
file): one request per line on stdin, ``{"id": N, "args": A}``, one
response per line on stdout, ``{"id": N, "result": R}`` or
``{"id": N, "error": "ExceptionType: message"}``. ``A`` is the arguments:
an object is passed as keyword arguments (positional-only parameters by
position), a list as positional arguments, anything else as one positional
argument (``null`` to a function that takes no argument calls it with none).

It also speaks the batch protocol, which the server offers by starting it
with ``PPROCD_BATCH=1`` in its environment: the runtime then writes
``{"batch":true}`` before its first response, and the server may send many
requests in one line, ``{"batch": [{"id": N, "args": A}, ...]}``, answered
in one line, ``{"batch": [{"id": N, "result": R}, ...]}``. The runtime
answers them in order, and stops after the first call that wrote to stderr
(the answers so far go back; the server sends the rest again), so that
what each call wrote stays with its item.

What the function prints goes to stderr, which the server captures as the
item's log: stdout carries nothing but responses. An exception answers the
request with its type and message, and its traceback goes to stderr, so the
item's error shows the message and its stderr tail the traceback. A result
that is not JSON-serializable is an error naming its type.

``--describe`` prints a ``[[callable]]`` table for the server's config file
instead: the name, the first line of the docstring, the argv that runs this
runtime, and the parameters from the signature and its type hints.

This module uses only the standard library and nothing else of the package.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import contextlib
import inspect
import json
import math
import os
import sys
import traceback
import typing
from typing import Any, BinaryIO, Callable, Dict, List, Optional, Sequence, Tuple

__all__ = ["describe", "load", "main", "serve"]

PROG = "python -m pprocd.worker"
# The server offers the batch protocol in this environment variable; the
# runtime takes the offer with this line, before any response.
BATCH_OFFER = "PPROCD_BATCH"
BATCH_ANNOUNCEMENT = b'{"batch":true}\n'


class LoadError(Exception):
    """The target could not be imported or named no callable."""


# --- Loading the function ---------------------------------------------------


def _split_target(target: str) -> Tuple[str, str]:
    where, sep, attribute = target.rpartition(":")
    if not sep or not where or not attribute:
        raise LoadError(f"target {target!r} must be module:function or path/to/file.py:function")
    return where, attribute


def _is_file(where: str) -> bool:
    return where.endswith(".py") or os.sep in where or "/" in where


def _import_file(path: str) -> Any:
    absolute = os.path.abspath(path)
    if not os.path.isfile(absolute):
        raise LoadError(f"no such file: {path}")
    # Its siblings are importable, as when the file is run as a script.
    directory = os.path.dirname(absolute)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    name = os.path.splitext(os.path.basename(absolute))[0]
    spec = importlib.util.spec_from_file_location(name, absolute)
    if spec is None or spec.loader is None:
        raise LoadError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load(target: str, paths: Sequence[str] = ()) -> Callable[..., Any]:
    """Imports TARGET (``module:function`` or ``path/to/file.py:function``)
    and returns the callable it names. ``paths`` go to the front of
    ``sys.path``, after the working directory. Raises :class:`LoadError`
    for a malformed target or a name that is not there; an exception of the
    imported module propagates."""
    where, attribute = _split_target(target)
    for path in reversed([os.getcwd(), *paths]):
        absolute = os.path.abspath(path)
        if absolute in sys.path:
            sys.path.remove(absolute)
        sys.path.insert(0, absolute)
    if _is_file(where):
        module = _import_file(where)
    else:
        try:
            module = importlib.import_module(where)
        except ModuleNotFoundError as error:
            if error.name is not None and where.startswith(error.name):
                raise LoadError(f"no module named {error.name!r} (searched: the working "
                                f"directory {os.getcwd()}, --path directories, then the "
                                f"installed packages)") from None
            raise
    value: Any = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise LoadError(f"{where} has no attribute {attribute!r}") from None
    if not callable(value):
        raise LoadError(f"{target} is not callable (its type is {type(value).__name__})")
    return typing.cast(Callable[..., Any], value)


# --- Serving ----------------------------------------------------------------


def _error_text(error: BaseException) -> str:
    """``ExceptionType: message``, as the last line of a traceback says it."""
    lines = traceback.format_exception_only(type(error), error)
    return "".join(lines).strip() or type(error).__name__


def _call(function: Callable[..., Any], args: Any) -> Any:
    if isinstance(args, dict):
        positional = []
        keywords = dict(args)
        for parameter in _parameters(function):
            if (parameter.kind is not inspect.Parameter.POSITIONAL_ONLY
                    or parameter.name not in keywords):
                break
            positional.append(keywords.pop(parameter.name))
        return function(*positional, **keywords)
    if isinstance(args, list):
        return function(*args)
    if args is None and _takes_no_argument(function):
        return function()
    return function(args)


def _parameters(function: Callable[..., Any]) -> List[inspect.Parameter]:
    try:
        return list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):  # no signature (some built-ins)
        return []


def _takes_no_argument(function: Callable[..., Any]) -> bool:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return False
    try:
        signature.bind(None)
    except TypeError:
        try:
            signature.bind()
            return True
        except TypeError:
            return False
    return False


_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


def _encode(response: Dict[str, Any]) -> bytes:
    return (_ENCODER.encode(response) + "\n").encode()


def _print_traceback(error: BaseException) -> None:
    """The traceback on stderr, without this runtime's own frames."""
    frames = error.__traceback__
    while frames is not None and frames.tb_frame.f_code.co_filename == __file__:
        frames = frames.tb_next
    traceback.print_exception(type(error), error, frames)


def _not_serializable(error: Exception, name: str) -> str:
    # json names the type it cannot encode ("Object of type set is not JSON
    # serializable"), or the float it refuses.
    message = (f"{type(error).__name__}: the result of {name} is not "
               f"JSON-serializable: {error}")
    print(f"{PROG}: {message}", file=sys.stderr)
    return message


def _answer(request_id: Any, function: Callable[..., Any], args: Any, name: str) -> bytes:
    try:
        result = _call(function, args)
    except Exception as error:
        _print_traceback(error)
        return _encode({"id": request_id, "error": _error_text(error)})
    try:
        return _encode({"id": request_id, "result": result})
    except (TypeError, ValueError, RecursionError) as error:
        return _encode({"id": request_id, "error": _not_serializable(error, name)})


# Results of these types are JSON as they are.
_PLAIN = frozenset([int, str, bool, type(None)])


def _check_serializable(result: Any) -> None:
    """Raises what json.dumps would raise for ``result``."""
    if result.__class__ in _PLAIN:
        return
    if result.__class__ is float:
        if not math.isfinite(result):
            raise ValueError(f"Out of range float values are not JSON compliant: {result!r}")
        return
    json.dumps(result, allow_nan=False)


def _stderr_size() -> Optional[int]:
    """The size of the file on stderr after a flush, or None when stderr is
    no file (a terminal, a pipe)."""
    if sys.stdout is not sys.stderr:
        sys.stdout.flush()
    sys.stderr.flush()
    try:
        return os.lseek(2, 0, os.SEEK_END)
    except OSError:
        return None


def _answer_batch(batch: Any, function: Callable[..., Any], name: str) -> bytes:
    """The response line to a batch request: the answers to its first
    requests, up to and including the first one whose call wrote to stderr
    (the server gives what a batch wrote to the last item answered)."""
    if not isinstance(batch, list) or not batch or not all(
            isinstance(request, dict) and "id" in request for request in batch):
        raise ValueError('a batch is a non-empty list of objects {"id": N, "args": ...}')
    answers: List[Dict[str, Any]] = []
    size = _stderr_size()
    for request in batch:
        try:
            result = _call(function, request.get("args"))
        except Exception as error:
            _print_traceback(error)
            answers.append({"id": request["id"], "error": _error_text(error)})
        else:
            try:
                _check_serializable(result)
                answers.append({"id": request["id"], "result": result})
            except (TypeError, ValueError, RecursionError) as error:
                answers.append({"id": request["id"], "error": _not_serializable(error, name)})
        if size is not None and _stderr_size() != size:
            break
    try:
        return _encode({"batch": answers})
    except (TypeError, ValueError, RecursionError):
        pass  # a result that passed the check but is no JSON after all
    for answer in answers:
        try:
            _encode(answer)
        except (TypeError, ValueError, RecursionError) as error:
            del answer["result"]
            answer["error"] = _not_serializable(error, name)
    return _encode({"batch": answers})


def serve(function: Callable[..., Any], requests: BinaryIO, responses: BinaryIO,
          name: str = "") -> None:
    """Answers each request line of ``requests`` on ``responses`` until the
    end of input. Output of the function must already be kept off
    ``responses`` (see :func:`main`)."""
    name = name or getattr(function, "__name__", "the function")
    for line in requests:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or ("id" not in request and "batch" not in request):
                raise ValueError('a request is an object {"id": N, "args": ...} or '
                                 '{"batch": [...]}')
            if "id" in request:
                response = _answer(request["id"], function, request.get("args"), name)
            else:
                response = _answer_batch(request["batch"], function, name)
        except ValueError as error:
            print(f"{PROG}: malformed request {line[:200]!r}: {error}", file=sys.stderr)
            response = _encode({"id": None, "error": f"malformed request: {error}"})
        # What the function wrote reaches the server's capture before the
        # response does.
        sys.stdout.flush()
        sys.stderr.flush()
        responses.write(response)
        responses.flush()


def _separate_stdout() -> BinaryIO:
    """Keeps file descriptor 1 for responses only: returns a stream on a
    copy of it, and points descriptor 1 and ``sys.stdout`` at stderr, so that
    ``print()``, ``os.write(1, ...)`` and subprocesses write to stderr."""
    sys.stdout.flush()
    responses = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return typing.cast(BinaryIO, responses)


# --- Describing -------------------------------------------------------------


_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
                 "\f": "\\f", "\r": "\\r"}


def _toml_string(text: str) -> str:
    out = []
    for char in text:
        if char in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    if key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key):
        return key
    return _toml_string(key)


def _toml_value(value: Any) -> Optional[str]:
    """``value`` in TOML, or None when it has no JSON (and TOML) spelling:
    None, a non-finite float, an integer beyond 2**53, other types."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) <= 2**53 else None
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple)):
        items = [_toml_value(item) for item in value]
        if any(item is None for item in items):
            return None
        return "[" + ", ".join(typing.cast(List[str], items)) + "]"
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            return None
        fields = {key: _toml_value(item) for key, item in value.items()}
        if any(item is None for item in fields.values()):
            return None
        if not fields:
            return "{}"
        return "{ " + ", ".join(f"{_toml_key(k)} = {v}" for k, v in fields.items()) + " }"
    return None


def _param_type(annotation: Any) -> str:
    """The config's parameter type for a type hint."""
    exact = {int: "integer", float: "number", str: "string", bool: "boolean",
             list: "list", dict: "struct"}
    for python_type, name in exact.items():
        if annotation is python_type:
            return name
    origin = typing.get_origin(annotation)
    if origin is list:
        return "list"
    if origin is dict:
        return "struct"
    return "any"


def describe(function: Callable[..., Any], argv: Sequence[str], name: str = "",
             working_dir: str = "") -> str:
    """A ``[[callable]]`` table for the server's config file that serves
    ``function`` with ``argv`` in ``working_dir``."""
    name = name or getattr(function, "__name__", "function")
    doc = inspect.getdoc(function) or ""
    summary = next((line.strip() for line in doc.splitlines() if line.strip()), "")
    try:
        signature: Optional[inspect.Signature] = inspect.signature(function)
    except (TypeError, ValueError):
        signature = None
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # a hint that does not resolve: take them as written
        hints = dict(getattr(function, "__annotations__", {}) or {})

    notes: List[str] = []
    params: List[str] = []
    if signature is None:
        notes.append(f"# {name}'s signature is unknown: it gets each input as it is.")
    else:
        for parameter in signature.parameters.values():
            if parameter.kind in (inspect.Parameter.VAR_POSITIONAL,
                                  inspect.Parameter.VAR_KEYWORD):
                notes.append(f"# {parameter} is left out: only named parameters are declared.")
                continue
            fields = [f"name = {_toml_string(parameter.name)}",
                      f"type = {_toml_string(_param_type(hints.get(parameter.name)))}"]
            if parameter.default is not inspect.Parameter.empty:
                default = _toml_value(parameter.default)
                if default is None:
                    notes.append(f"# {parameter.name}: its default {parameter.default!r} has no "
                                 "TOML spelling, so it is required here.")
                else:
                    fields.append(f"default = {default}")
            params.append("  { " + ", ".join(fields) + " },")

    lines = ["[[callable]]", f"name = {_toml_string(name)}"]
    if summary:
        lines.append(f"description = {_toml_string(summary)}")
    lines.append("argv = [" + ", ".join(_toml_string(arg) for arg in argv) + "]")
    if working_dir:
        lines.append(f"working_dir = {_toml_string(working_dir)}")
    lines.append('mode = "persistent"')
    lines.extend(notes)
    if params:
        lines.append("params = [")
        lines.extend(params)
        lines.append("]")
    elif signature is not None:
        lines.append("params = []")
    return "\n".join(lines) + "\n"


# --- Command line -----------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Serves one Python function as a pprocd command callable "
                    "(newline-delimited JSON on stdin and stdout).")
    parser.add_argument("target", metavar="TARGET",
                        help="module:function, or path/to/file.py:function")
    parser.add_argument("--path", action="append", default=[], metavar="DIR",
                        help="a directory to import from (repeatable), after the "
                             "working directory")
    parser.add_argument("--name", default="",
                        help="the callable's name for --describe (default: the function's)")
    parser.add_argument("--describe", action="store_true",
                        help="print a [[callable]] table for the server's config file "
                             "and exit")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    options = _parser().parse_args(argv)
    # The server's offer of the batch protocol is for this process alone,
    # not for the programs the function may start.
    batch_offered = os.environ.pop(BATCH_OFFER, None) == "1"
    # Output while importing must not reach the responses either.
    responses = None if options.describe else _separate_stdout()
    try:
        with contextlib.redirect_stdout(sys.stderr):
            function = load(options.target, options.path)
    except LoadError as error:
        print(f"{PROG}: cannot load {options.target}: {error}", file=sys.stderr)
        return 2
    except Exception:
        print(f"{PROG}: cannot load {options.target}:", file=sys.stderr)
        traceback.print_exc()
        return 2
    if options.describe:
        runtime_argv = [sys.executable, "-m", "pprocd.worker"]
        for path in options.path:
            runtime_argv += ["--path", path]
        runtime_argv.append(options.target)
        sys.stdout.write(describe(function, runtime_argv, options.name, os.getcwd()))
        return 0
    assert responses is not None
    if batch_offered:
        responses.write(BATCH_ANNOUNCEMENT)
        responses.flush()
    requests = typing.cast(BinaryIO, sys.stdin.buffer)
    try:
        serve(function, requests, responses, options.name)
    except BrokenPipeError:
        pass  # the server went away
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
