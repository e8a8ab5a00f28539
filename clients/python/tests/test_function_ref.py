"""Python functions by reference: what the reference holds, what is refused,
and the items built so that the farm's call is the one the user wrote.
No server needed."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import pprocd
from pprocd._function_ref import FunctionRef, as_target, function_ref, target_fields


def square(x):
    return x * x


def add(a, b=10):
    return a + b


def no_arguments():
    return 1


def positional_only(a, b, /, c=0):
    return a + b + c


def star_args(*args):
    return sum(args)


def mixed(a, *rest, scale=1):
    return (a + sum(rest)) * scale


def keyword_only(*, k=1):
    return k


def with_kwargs(a, **options):
    return a, options


def channel_function(channel, i, j):
    channel.send([i, j])


class Solver:
    @staticmethod
    def run(x):
        return x

    @classmethod
    def make(cls, x):
        return x

    def method(self, x):
        return x


def decorated_properly(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


@decorated_properly
def wrapped(x):
    return x


def _nested_factory():
    def inner(x):
        return x
    return inner


replaced = square  # a second name for square: its qualname still finds square


def test_reference_names_interpreter_module_file_and_path() -> None:
    ref = function_ref(square)
    assert ref.interpreter == os.path.abspath(sys.executable)
    assert ref.module == __name__
    assert ref.module_file == os.path.realpath(__file__)
    assert ref.qualname == "square"
    assert not ref.channel
    assert all(os.path.isabs(p) and os.path.exists(p) for p in ref.sys_path)
    message = ref.message()
    assert message.module_file == ref.module_file
    assert list(message.sys_path) == list(ref.sys_path)
    assert target_fields(ref) == {"function": message}
    assert target_fields("fib") == {"callable": "fib"}
    assert str(ref) == f"{__name__}.square"


def test_reference_is_cached_and_channel_is_a_separate_reference() -> None:
    assert function_ref(square) is function_ref(square)
    channel = function_ref(channel_function, channel=True)
    assert channel.channel and channel.message().channel
    assert channel != function_ref(channel_function)
    assert as_target("calculate") == "calculate"


def test_static_and_class_methods_by_dotted_name_are_accepted() -> None:
    assert function_ref(Solver.run).qualname == "Solver.run"
    assert function_ref(Solver.make).qualname == "Solver.make"
    assert function_ref(wrapped).qualname == "wrapped"


@pytest.mark.parametrize("fn, words", [
    (lambda x: x, "is a lambda"),
    (_nested_factory(), "defined inside another function"),
    (Solver().method, "bound to a Solver instance"),
    (functools.partial(add, 1), "functools.partial"),
    (len, "built-in"),
    (print, "built-in"),
])
def test_what_cannot_be_referenced_is_a_type_error_saying_what_to_pass(fn: Any,
                                                                        words: str) -> None:
    with pytest.raises(TypeError) as caught:
        function_ref(fn)
    text = str(caught.value)
    assert "pprocd runs functions by reference" in text
    assert "module-level function" in text
    assert words in text


def test_a_function_whose_name_does_not_find_it_is_refused() -> None:
    def impostor(x):
        return x
    impostor.__qualname__ = "square"  # the module's square is another object
    with pytest.raises(TypeError, match="does not name this function"):
        function_ref(impostor)


def test_a_non_callable_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="registered callable's name"):
        as_target(42)


def test_channel_function_needs_a_first_parameter() -> None:
    with pytest.raises(TypeError, match="channel as its first parameter"):
        function_ref(no_arguments, channel=True)


def _script(tmp_path: Any, body: str) -> str:
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(body))
    return str(path)


def _run(argv: Any, cwd: Any) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    env = dict(os.environ, PYTHONPATH=src)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_a_scripts_function_is_its_main_module_and_file(tmp_path: Any) -> None:
    script = _script(tmp_path, """
        import json
        from pprocd._function_ref import function_ref

        def calculate(t):
            return t

        if __name__ == "__main__":
            ref = function_ref(calculate)
            print(json.dumps([ref.module, ref.module_file, ref.qualname, list(ref.sys_path)]))
    """)
    done = _run([sys.executable, "script.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    module, module_file, qualname, path = json.loads(done.stdout)
    assert (module, module_file, qualname) == ("__main__", os.path.realpath(script), "calculate")
    assert path[0] == os.path.realpath(str(tmp_path)) or path[0] == str(tmp_path)


def test_a_scripts_function_seen_as_mp_main_is_referenced_as_main(tmp_path: Any) -> None:
    _script(tmp_path, """
        import json, runpy, sys
        from pprocd._function_ref import function_ref

        def calculate(t):
            return t
    """)
    code = ("import importlib.util, sys\n"
            "spec = importlib.util.spec_from_file_location('__mp_main__', 'script.py')\n"
            "module = importlib.util.module_from_spec(spec)\n"
            "sys.modules['__mp_main__'] = module\n"
            "spec.loader.exec_module(module)\n"
            "ref = module.function_ref(module.calculate)\n"
            "print(ref.module, ref.qualname)\n")
    done = _run([sys.executable, "-c", code], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["__main__", "calculate"]


def test_a_function_typed_into_python_c_is_refused(tmp_path: Any) -> None:
    code = ("from pprocd._function_ref import function_ref\n"
            "def f(x): return x\n"
            "try:\n    function_ref(f)\nexcept TypeError as e:\n    print(e)\n")
    done = _run([sys.executable, "-c", code], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Define it in a module or script file" in done.stdout


# Items -------------------------------------------------------------------------


def test_map_items_of_a_one_parameter_function_are_the_values() -> None:
    ref = function_ref(square)
    values = [1, [1, 2], {"a": 1}, None, "s"]
    assert ref.map_items(values) is values


def test_map_items_of_a_several_parameter_function_wrap_what_would_spread() -> None:
    ref = function_ref(add)
    assert ref.map_items([1, [1, 2], (3, 4), {"a": 1}, None, "s", 2.5]) == [
        1, [[1, 2]], [(3, 4)], [{"a": 1}], [None], "s", 2.5]
    # A lone *args is not a parameter that takes the item whole.
    assert function_ref(star_args).map_items([[1, 2], 3]) == [[[1, 2]], 3]


def test_call_items_of_a_one_parameter_function_are_the_value() -> None:
    ref = function_ref(square)
    assert ref.call_item((3,), {}) == 3
    assert ref.call_item((), {"x": [1, 2]}) == [1, 2]
    assert ref.call_item(([1, 2],), {}) == [1, 2]
    with pytest.raises(TypeError, match="square"):
        ref.call_item((1, 2), {})


def test_call_items_by_position_are_the_list_of_positionals() -> None:
    ref = function_ref(add)
    assert ref.call_item((1,), {}) == [1]
    assert ref.call_item((1, 2), {}) == [1, 2]
    assert function_ref(no_arguments).call_item((), {}) == []
    assert function_ref(star_args).call_item((5,), {}) == [5]
    assert function_ref(star_args).call_item((1, 2, 3), {}) == [1, 2, 3]
    assert function_ref(keyword_only).call_item((), {"k": 2}) == {"k": 2}
    assert function_ref(keyword_only).call_item((), {}) == []


def test_call_items_with_keywords_keep_positions_or_name_everything() -> None:
    add_ref = function_ref(add)
    assert add_ref.call_item((1,), {"b": 5}) == [1, 5]
    assert add_ref.call_item((), {"b": 5, "a": 1}) == [1, 5]
    assert function_ref(mixed).call_item((), {"a": 1}) == [1]
    only = function_ref(positional_only)
    assert only.call_item((1, 2), {"c": 3}) == [1, 2, 3]
    assert function_ref(mixed).call_item((1,), {"scale": 2}) == {"a": 1, "scale": 2}
    assert function_ref(with_kwargs).call_item((1,), {"x": 2}) == {"a": 1, "x": 2}
    with pytest.raises(TypeError, match="pass them all by position"):
        function_ref(mixed).call_item((1, 2), {"scale": 2})


def test_call_items_that_do_not_bind_are_type_errors_before_anything_is_sent() -> None:
    with pytest.raises(TypeError, match="add"):
        function_ref(add).call_item((), {})
    with pytest.raises(TypeError):
        function_ref(add).call_item((1,), {"nope": 2})


def test_a_channel_functions_items_leave_out_the_channel() -> None:
    ref = function_ref(channel_function, channel=True)
    assert ref.call_item((1, 2), {}) == [1, 2]
    assert not ref.one_parameter
    assert isinstance(ref, FunctionRef)


def test_the_farm_api_refuses_a_lambda_at_the_call_without_a_server() -> None:
    farm = pprocd.Farm("unix:/nonexistent/pprocd.sock")
    with pytest.raises(TypeError, match="is a lambda"):
        farm.pmap(lambda x: x, [1, 2])
    with pytest.raises(TypeError, match="is a lambda"):
        farm.start(lambda ch: None)
    with pytest.raises(TypeError, match="is a lambda"):
        farm.Map().manage(lambda x: x)
    with farm.executor() as executor, pytest.raises(TypeError, match="is a lambda"):
        executor.submit(lambda x: x, 1)
    with pytest.raises(TypeError, match="add\\(\\)"):
        farm.Queue().manage(add)()
