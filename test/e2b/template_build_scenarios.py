"""E2B template builds through the PyPI `e2b` SDK's Template (sync, unchanged), run by
template-build.test.ts in the SDK's virtualenv. Connection from E2B_API_KEY / E2B_API_URL /
E2B_SANDBOX_URL; TB_PREFIX makes names unique. Prints one JSON line per scenario: {name, ok, error?, ms}."""
import json, os, tempfile, time, traceback
from e2b import Sandbox, Template, BuildException, wait_for_port

PREFIX = os.environ["TB_PREFIX"]
NAME = f"{PREFIX}-app"
context = tempfile.mkdtemp(prefix="tb-py-context-")
with open(os.path.join(context, "hello.txt"), "w") as f:
    f.write("hello from python\n")


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def build_and_use():
    template = (
        Template(file_context_path=context)
        .from_template("base")
        .copy("hello.txt", "/home/user/app/hello.txt")
        .set_envs({"GREETING": "hi from py"})
        .set_workdir("/home/user/app")
        .run_cmd(f'echo "$GREETING" > greeting.txt && echo py-build-marker-{PREFIX}')
        .set_start_cmd("echo py-started > /tmp/started.txt; cd /tmp && exec python3 -m http.server 8000", wait_for_port(8000))
    )
    logs = []
    info = Template.build(template, NAME, on_build_logs=logs.append)
    check(info.template_id == NAME, f"template_id {info.template_id}")
    check(any(f"py-build-marker-{PREFIX}" in str(e.message) for e in logs), f"logs {[str(e.message) for e in logs]}")
    sbx = Sandbox.create(NAME, timeout=120)
    try:
        check(sbx.files.read("/home/user/app/hello.txt") == "hello from python\n", "copied file")
        r = sbx.commands.run('echo "$GREETING"; cat greeting.txt /tmp/started.txt; pwd; whoami')
        check(r.stdout == "hi from py\nhi from py\npy-started\n/home/user/app\nuser\n", f"stdout {r.stdout!r}")
        served = sbx.commands.run("curl -sS http://127.0.0.1:8000/started.txt")
        check(served.stdout == "py-started\n", f"the start command's server, waited for with wait_for_port: {served.stdout!r}")
    finally:
        sbx.kill()


def failing_run():
    template = Template().from_template("base").run_cmd("echo fine").run_cmd("echo boom-on-stderr >&2; exit 7")
    try:
        Template.build(template, f"{PREFIX}-fail")
        raise AssertionError("a failing build succeeded")
    except BuildException as e:
        check("exit 7" in str(e) and "boom-on-stderr" in str(e), f"BuildException {e}")
    info = Template.build_in_background(template, f"{PREFIX}-fail")
    for _ in range(3000):
        status = Template.get_build_status(info)
        if status.status.value not in ("building", "waiting"):
            break
        time.sleep(0.2)
    check(status.status.value == "error", f"status {status.status}")
    check(status.reason is not None and status.reason.step == "2" and "exit 7" in status.reason.message, f"reason {status.reason}")


def bad_requests():
    try:
        Template.build(Template().from_image("python:3.12").run_cmd("true"), f"{PREFIX}-py")
        raise AssertionError("a registry image was accepted")
    except BuildException as e:
        check("cannot be pulled" in str(e), f"registry image: {e}")
    check(Template.exists(NAME) is True, "exists() of the built template")
    check(Template.exists(f"{PREFIX}-never-built") is False, "exists() of an unknown name")


for name, fn in [
    ("Template.build from base: COPY, ENV, RUN, WORKDIR, start and ready commands; Sandbox.create from it", build_and_use),
    ("a failing RUN: BuildException and status error naming the step", failing_run),
    ("bad requests refused clearly; exists()", bad_requests),
]:
    t0 = time.time()
    try:
        fn()
        print(json.dumps({"name": name, "ok": True, "ms": int((time.time() - t0) * 1000)}), flush=True)
    except Exception:
        print(json.dumps({"name": name, "ok": False, "ms": int((time.time() - t0) * 1000), "error": traceback.format_exc()[-3000:]}), flush=True)
