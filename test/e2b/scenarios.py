"""The E2B conformance scenarios for the PyPI `e2b` SDK (unchanged), run by conformance.test.ts in
the SDK's virtualenv. Connection from E2B_API_KEY / E2B_API_URL / E2B_SANDBOX_URL. Prints one JSON
line per scenario: {name, ok, error?, ms}."""
import os, time
from e2b import Sandbox
from scenario_runner import check, poll, run_scenarios

TEMPLATE = os.environ.get("E2B_TEMPLATE", "base")
ctx = {}


def create():
    ctx["tag"] = f"py{int(time.time() * 1000)}"
    ctx["sbx"] = Sandbox.create(TEMPLATE, metadata={"suite": "e2b", "tag": ctx["tag"]}, envs={"FROM_CREATE": "yes"}, timeout=300)
    check(len(ctx["sbx"].sandbox_id) == 20, ctx["sbx"].sandbox_id)


def commands():
    out, err = [], []
    r = ctx["sbx"].commands.run("echo $FROM_CREATE; echo a; sleep 0.3; echo b; echo e >&2", on_stdout=out.append, on_stderr=err.append)
    check(r.exit_code == 0 and r.stdout == "yes\na\nb\n", repr(r))
    check("".join(out) == "yes\na\nb\n" and "".join(err) == "e\n", f"streamed {out} {err}")


def background():
    sbx = ctx["sbx"]
    h = sbx.commands.run("for i in 1 2 3 4 5 6 7 8 9 10; do echo tick$i; sleep 0.2; done; sleep 60", background=True, timeout=0)
    seen = []
    again = sbx.commands.connect(h.pid, timeout=0)
    import threading
    def pump():
        try:
            for stdout, _, _ in again:
                if stdout:
                    seen.append(stdout)
        except Exception:
            pass
    threading.Thread(target=pump, daemon=True).start()
    poll(lambda: "tick3" in "".join(seen), "output through connect")
    check(any(p.pid == h.pid for p in sbx.commands.list()), "listed")
    check(sbx.commands.kill(h.pid) is True, "kill")
    check(sbx.commands.kill(h.pid) is False, "second kill")


def pty():
    from e2b import PtySize
    screen = []
    sbx = ctx["sbx"]
    t = sbx.pty.create(PtySize(rows=25, cols=90), timeout=30)
    sbx.pty.send_stdin(t.pid, b"stty size; exit\n")
    t.wait(on_pty=lambda d: screen.append(bytes(d).decode(errors="replace")))
    check("25 90" in "".join(screen), "".join(screen)[-200:])


def files():
    f = ctx["sbx"].files
    f.make_dir("/home/user/w")
    w = f.watch_dir("/home/user/w")
    f.write("/home/user/w/a.txt", "hello e2b")
    check(f.read("/home/user/w/a.txt") == "hello e2b", "read")
    check(any(e.name == "a.txt" for e in f.list("/home/user/w")), "list")
    check(f.exists("/home/user/w/a.txt") is True, "exists")
    f.remove("/home/user/w/a.txt")
    check(f.exists("/home/user/w/a.txt") is False, "removed")
    events = poll(lambda: w.get_new_events(), "watch events")
    check(any(e.name == "a.txt" for e in events), repr(events))
    w.stop()


def big():
    data = bytes((i * 7 + (i >> 11)) & 0xFF for i in range(5 * 1024 * 1024))
    ctx["sbx"].files.write("/home/user/big.bin", data)
    back = ctx["sbx"].files.read("/home/user/big.bin", format="bytes")
    check(bytes(back) == data, "5 MiB round trip")


def listing():
    from e2b import SandboxQuery
    items = Sandbox.list(query=SandboxQuery(metadata={"tag": ctx["tag"]})).next_items()
    check([s.sandbox_id for s in items] == [ctx["sbx"].sandbox_id], repr(items))
    check(Sandbox.list(query=SandboxQuery(metadata={"tag": "no-such"})).next_items() == [], "other tag")


def info_timeout():
    sbx = ctx["sbx"]
    info = sbx.get_info()
    check(info.sandbox_id == sbx.sandbox_id and info.template_id == TEMPLATE and info.metadata["tag"] == ctx["tag"], repr(info))
    sbx.set_timeout(120)
    end = sbx.get_info().end_at.timestamp()
    check(abs(end - (time.time() + 120)) < 15, f"end_at {end}")
    sbx.set_timeout(300)


def pause_connect():
    sbx = ctx["sbx"]
    sbx.commands.run("i=0; while true; do echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count; i=$((i+1)); sleep 0.1; done", background=True, timeout=0)
    def count():
        try:
            return int(sbx.files.read("/tmp/count").strip() or 0)
        except Exception:  # not written yet
            return 0
    poll(lambda: count() > 3, "counter")
    (sbx.pause if hasattr(sbx, "pause") else sbx.beta_pause)()
    check(sbx.get_info().state.value == "paused", "paused")
    sbx = ctx["sbx"] = Sandbox.connect(sbx.sandbox_id)
    before = int(sbx.files.read("/tmp/count").strip())
    time.sleep(0.8)
    after = int(sbx.files.read("/tmp/count").strip())
    check(after > before, f"counter {before} -> {after}")


def kill():
    check(Sandbox.kill(ctx["sbx"].sandbox_id) is True, "kill")
    check(Sandbox.kill(ctx["sbx"].sandbox_id) is False, "kill again")
    check(Sandbox.kill("zzzzzzzzzzzzzzzzzzzz") is False, "unknown")


SCENARIOS = [
    ("create", create), ("commands.run with streaming callbacks", commands),
    ("background command, connect by pid, kill", background), ("pty", pty),
    ("files write/read/list/exists/remove/watch", files), ("upload and download 5 MiB", big),
    ("metadata list filters", listing), ("getInfo and setTimeout", info_timeout),
    ("pause then connect: a running process keeps counting", pause_connect),
    ("kill, and kill of an unknown id is false", kill),
]

run_scenarios(SCENARIOS, ctx, create, lambda sbx: Sandbox.kill(sbx.sandbox_id))
