"""Code-interpreter scenarios for PyPI `e2b-code-interpreter` (unchanged), run by
conformance.test.ts like scenarios.py. Prints one JSON line per scenario."""
import base64
from e2b_code_interpreter import Sandbox
from scenario_runner import check, run_scenarios

ctx = {}


def create():
    ctx["sbx"] = Sandbox.create(timeout=300)


def state():
    out = []
    ctx["sbx"].run_code('x = 41\nprint("set")', on_stdout=out.append)
    check(len(out) == 1 and out[0].line == "set\n", repr(out))
    r = ctx["sbx"].run_code("x + 1")
    check(r.results[0].text == "42" and r.results[0].is_main_result, repr(r.results))


def error():
    r = ctx["sbx"].run_code("1/0")
    check(r.error is not None and r.error.name == "ZeroDivisionError" and r.error.traceback, repr(r.error))


def chart():
    r = ctx["sbx"].run_code("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.show()")
    pngs = [x.png for x in r.results if x.png]
    check(pngs and base64.b64decode(pngs[0])[1:4] == b"PNG", repr(r))


SCENARIOS = [("create code-interpreter-v1", create), ("runCode keeps state across calls", state),
             ("runCode error has name, value and traceback", error), ("runCode returns a PNG chart", chart)]
run_scenarios(SCENARIOS, ctx, create, lambda sbx: sbx.kill())
