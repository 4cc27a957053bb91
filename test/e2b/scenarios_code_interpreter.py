"""Code-interpreter scenarios for PyPI `e2b-code-interpreter` (unchanged), run by
conformance.test.ts like scenarios.py. Prints one JSON line per scenario."""
import base64, json, time, traceback
from e2b_code_interpreter import Sandbox

ctx = {}


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


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
for name, fn in SCENARIOS:
    t0 = time.time()
    try:
        if "sbx" not in ctx and fn is not create:
            raise AssertionError("no sandbox (create failed)")
        fn()
        print(json.dumps({"name": name, "ok": True, "ms": int((time.time() - t0) * 1000)}), flush=True)
    except Exception:
        print(json.dumps({"name": name, "ok": False, "ms": int((time.time() - t0) * 1000), "error": traceback.format_exc()[-2000:]}), flush=True)
if "sbx" in ctx:
    try:
        ctx["sbx"].kill()
    except Exception:
        pass
