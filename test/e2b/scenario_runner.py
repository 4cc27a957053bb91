"""Runs (name, fn) scenarios in order for the E2B scenario scripts (conformance.test.ts,
api-parity.test.ts): one JSON line per scenario with its outcome and duration; every scenario but
`create` needs the sandbox `create` made."""
import json, time, traceback


def poll(fn, what, seconds=10):
    """Waits until fn returns a truthy value (an event, not a time), at most `seconds`."""
    end = time.time() + seconds
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def run_scenarios(scenarios, ctx, create, kill):
    for name, fn in scenarios:
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
            kill(ctx["sbx"])
        except Exception:
            pass
