"""The blocking flavour (``from agentbox import Sandbox``): the TypeScript SDK's scenarios
(test/sdk/sandbox.test.ts) and those that need a real guest (background commands, PTY, watch,
fork), against real gVisor sandboxes."""
from __future__ import annotations

import io
import json
import os
import socket
import urllib.parse

import pytest
from conftest import Collected, wait_until

from agentbox import (
    AuthenticationError, CommandExitError, ConflictError, InvalidArgumentError, NotFoundError, Pools, Sandbox,
    SandboxEndedError, Templates, TimeoutError, UnavailableError, Volumes,
)


def test_create_get_info_set_timeout_pause_resume_kill() -> None:
    sbx = Sandbox.create(template="base", metadata={"who": "sdk"}, timeout_ms=30_500)
    try:
        info = sbx.get_info()
        assert info.timeout_seconds == 31
        assert info.metadata == {"who": "sdk"}
        assert info.state == "running" and info.template == "base" and info.runtime == "gvisor"
        sbx.set_timeout(120_000)
        assert sbx.get_info().timeout_seconds == 120
        sbx.commands.run("echo kept > /tmp/state")
        assert sbx.pause().state == "paused"
        with pytest.raises(ConflictError):
            sbx.commands.run("true")
        with pytest.raises(ConflictError):  # the guest's route answers with the server's own code
            sbx.commands.run("true", background=True)
        again = Sandbox.connect(sbx.sandbox_id)
        assert again.get_info().state == "running", "connect resumes a paused sandbox"
        assert again.files.read("/tmp/state") == "kept\n"
    finally:
        sbx.kill()
    with pytest.raises(SandboxEndedError) as ended:
        sbx.get_info()
    assert ended.value.reason == "killed" and ended.value.ended_at is not None
    with pytest.raises(NotFoundError):  # a SandboxEndedError is a NotFoundError too
        Sandbox.connect(sbx.sandbox_id)


def test_logs_and_usage_of_a_running_sandbox(sbx: Sandbox) -> None:
    sbx.commands.run("head -c 1000000 /dev/zero > /dev/null")
    usage = sbx.usage()
    assert usage.memory_bytes > 0 and usage.pids > 0 and usage.cpu_nanos > 0, usage
    lines = [json.loads(line) for line in "".join(sbx.logs()).splitlines() if line.startswith("{")]
    # A booted sandbox's console has the guest's start; one restored from a golden snapshot its re-key.
    assert any(line.get("msg") in ("guest listening", "guest re-keyed") for line in lines), lines


def test_a_with_block_kills_its_sandbox() -> None:
    with Sandbox.create(template="busybox") as sbx:
        assert sbx.commands.run("echo in").stdout == "in\n"
    with pytest.raises(NotFoundError):
        Sandbox.connect(sbx.sandbox_id)


def test_list_pages_through_everything_and_filters_by_metadata() -> None:
    made = [Sandbox.create(template="busybox", metadata={"group": "g&=1", "i": str(i)}) for i in range(3)]
    try:
        seen = [info.id for info in Sandbox.list(metadata={"group": "g&=1"}, limit=2)]
        assert sorted(seen) == sorted(s.sandbox_id for s in made)
        one = [info.id for info in Sandbox.list(metadata={"group": "g&=1", "i": "1"}, state=["running"])]
        assert one == [made[1].sandbox_id]
    finally:
        for s in made:
            s.kill()


def test_commands_output_callbacks_env_stdin_and_exit_errors(sbx: Sandbox) -> None:
    sandbox = Sandbox.create(template="base", envs={"GREETING": "hello"})
    try:
        assert sandbox.commands.run("echo $GREETING $WHO", envs={"WHO": "you"}).stdout == "hello you\n"
    finally:
        sandbox.kill()
    chunks = Collected()
    streamed = sbx.commands.run("echo a; echo b >&2", on_stdout=lambda d: chunks.add(f"out:{d}"), on_stderr=lambda d: chunks.add(f"err:{d}"))
    assert streamed.exit_code == 0
    assert sorted(chunks.items) == ["err:b\n", "out:a\n"]
    assert sbx.commands.run("cat", stdin="from stdin").stdout == "from stdin"
    # Bytes arrive exactly; the output is still text, a character split between writes whole.
    assert sbx.commands.run("od -An -tx1", stdin=b"\xff\x00\xc3\xa9\n").stdout.split() == ["ff", "00", "c3", "a9", "0a"]
    split = Collected()
    whole = sbx.commands.run("head -c 1; sleep 0.2; cat", stdin="é\n".encode(), on_stdout=lambda d: split.add(d))
    assert whole.stdout == "é\n" and "".join(split.items) == "é\n"
    assert sbx.commands.run(["/bin/sh", "-c", 'echo "$0"', "argv"]).stdout == "argv\n"
    assert sbx.commands.run("pwd", cwd="/tmp").stdout == "/tmp\n"
    with pytest.raises(CommandExitError) as err:
        sbx.commands.run("echo bad; exit 7")
    assert err.value.exit_code == 7 and err.value.stdout == "bad\n"
    with pytest.raises(CommandExitError) as streamed_err:
        sbx.commands.run("exit 3", on_stdout=lambda d: None)
    assert streamed_err.value.exit_code == 3
    with pytest.raises(TimeoutError, match="timeoutMs"):
        sbx.commands.run("sleep 30", timeout_ms=500)


def test_background_command_stdin_streaming_and_kill(sbx: Sandbox) -> None:
    lines = Collected()
    h = sbx.commands.run("while read l; do echo got:$l; done; echo eof", background=True, on_stdout=lines.add)
    assert h.pid > 0
    h.send_stdin("one\n")
    lines.wait_for("the first echoed line", lambda items: "got:one\n" in "".join(items))
    h.send_stdin(b"two\n")
    h.close_stdin()
    result = h.wait()
    assert result.stdout == "got:one\ngot:two\neof\n" == h.stdout
    sleeper = sbx.commands.run("sleep 300", background=True)
    assert sleeper.kill() is True
    with pytest.raises(CommandExitError) as err:
        sleeper.wait()
    assert err.value.exit_code != 0
    assert sleeper.kill() is False, "killing a process that is gone says so"
    failing = sbx.commands.run("echo oops >&2; exit 4", background=True)
    with pytest.raises(CommandExitError) as failed:
        failing.wait()
    assert failed.value.exit_code == 4 and failed.value.stderr == "oops\n"


def test_killing_the_sandbox_ends_its_background_work_with_a_typed_error() -> None:
    sbx = Sandbox.create(template="busybox")
    h = sbx.commands.run("sleep 600", background=True)
    sbx.kill()
    # The guest may report the kill (CommandExitError) or vanish first (UnavailableError): never a hang or a raw transport error.
    with pytest.raises((CommandExitError, UnavailableError)):
        h.wait()


def test_pty_typing_and_reading_back(sbx: Sandbox) -> None:
    screen = Collected()
    term = sbx.pty.create(screen.add, cols=100, rows=30)
    term.send_input("stty size; echo $((6*7))\n")
    screen.wait_for("the shell's answer", lambda items: "42" in b"".join(items).decode(errors="replace"))
    assert "30 100" in screen.text()
    term.resize(cols=120, rows=40)
    term.send_input("stty size\n")
    screen.wait_for("the new size", lambda items: "40 120" in b"".join(items).decode(errors="replace"))
    term.send_input("exit 5\n")
    end = term.wait()
    assert end.exit_code == 5 and end.exited


def test_files_write_read_list_exists_remove_and_typed_errors(sbx: Sandbox) -> None:
    sbx.files.write("/tmp/a/b.txt", "content")
    entry = sbx.files.write("/tmp/a/bin", bytes([0, 1, 2, 255]))
    assert entry.path == "/tmp/a/bin" and entry.size == 4 and entry.type == "file"
    assert sbx.files.read("/tmp/a/b.txt") == "content"
    assert sbx.files.read("/tmp/a/bin", "bytes") == bytes([0, 1, 2, 255])
    assert [e.name for e in sbx.files.list("/tmp/a")] == ["b.txt", "bin"]
    assert sbx.files.exists("/tmp/a/b.txt") is True
    assert sbx.files.get_info("/tmp/a").type == "dir"
    sbx.files.remove("/tmp/a/b.txt")
    assert sbx.files.exists("/tmp/a/b.txt") is False
    with pytest.raises(NotFoundError):
        sbx.files.read("/tmp/a/b.txt")
    with pytest.raises(InvalidArgumentError):
        sbx.files.write("../x", "x")


def test_files_stream_large_content_both_ways(sbx: Sandbox) -> None:
    blob = os.urandom(3 * 1024 * 1024 + 17)
    assert sbx.files.write("/tmp/big", io.BytesIO(blob)).size == len(blob)
    chunks = list(sbx.files.read_stream("/tmp/big"))
    assert b"".join(chunks) == blob
    assert sbx.commands.run("md5sum /tmp/big").stdout.split()[0] == __import__("hashlib").md5(blob).hexdigest()
    sbx.files.write("/tmp/parts", (part for part in [b"a" * 10, b"b" * 5]))
    assert sbx.files.read("/tmp/parts") == "a" * 10 + "b" * 5


def test_watch_reports_changes_made_after_it_is_live(sbx: Sandbox) -> None:
    sbx.files.write("/tmp/w/.keep", "")
    events = Collected()
    w = sbx.files.watch("/tmp/w", events.add)
    sbx.files.write("/tmp/w/new.txt", "x")
    events.wait_for("the create of new.txt", lambda items: any(e.name == "new.txt" for e in items))
    assert {e.type for e in events.items if e.name == "new.txt"} & {"create", "write"}
    w.stop()
    seen = len(events.items)
    sbx.files.write("/tmp/w/after-stop.txt", "x")
    sbx.commands.run("sync")
    assert len(events.items) == seen, "no event after stop() returned"
    with pytest.raises(NotFoundError):
        sbx.files.watch("/tmp/does-not-exist", events.add)


def test_fork_copies_files_and_processes(sbx: Sandbox) -> None:
    sbx.files.write("/tmp/parent.txt", "from parent")
    sbx.commands.run("sleep 600", background=True)
    child = sbx.fork(metadata={"forked": "yes"}, timeout_ms=60_000)
    try:
        assert child.sandbox_id != sbx.sandbox_id
        info = child.get_info()
        assert info.metadata == {"forked": "yes"} and info.timeout_seconds == 60
        assert child.files.read("/tmp/parent.txt") == "from parent"
        assert "sleep 600" in child.commands.run("ps -eo args").stdout
        child.files.write("/tmp/child.txt", "only here")
        assert sbx.files.exists("/tmp/child.txt") is False
    finally:
        child.kill()


def test_connection_errors_are_typed(server_url: str) -> None:
    with pytest.raises(AuthenticationError):
        Sandbox.create(api_url=server_url, api_key="e2b_0000", template="base")
    with pytest.raises(NotFoundError):
        Sandbox.create(template="nope")
    with pytest.raises(InvalidArgumentError):
        Sandbox.create(template="base", timeout_ms=10**12)
    with pytest.raises(UnavailableError):
        Sandbox.create(api_url="http://127.0.0.1:1", api_key="k", template="base")


def test_request_timeout_is_typed() -> None:
    # A listener that accepts and never answers stands in for a hung server (no agentbox server hangs on purpose).
    with socket.create_server(("127.0.0.1", 0)) as hung:
        url = f"http://127.0.0.1:{hung.getsockname()[1]}"
        with pytest.raises(TimeoutError, match="request_timeout_ms"):
            Sandbox.connect("a" * 20, api_url=url, api_key="k", request_timeout_ms=300)


def test_get_host(sbx: Sandbox, server_url: str) -> None:
    host = urllib.parse.urlsplit(server_url).netloc
    port = urllib.parse.urlsplit(server_url).port
    assert sbx.get_host(8080) == f"{host}/v1/sandboxes/{sbx.sandbox_id}/ports/8080"
    routed = Sandbox.connect(sbx.sandbox_id, domain="sbx.local")
    assert routed.get_host(8080) == f"8080-{sbx.sandbox_id}.sbx.local:{port}"


def test_templates_list_build_and_refuse_a_bad_recipe() -> None:
    names = {t.name: t for t in Templates.list()}
    assert names["base"].state == "ready" and names["base"].visibility == "public"
    built = Templates.build({"name": "py-sdk-tpl", "from": {"template": "busybox"}, "run": ["echo built > /etc/py-sdk-mark"]})
    assert built.name == "py-sdk-tpl" and built.state == "ready"
    sandbox = Sandbox.create(template="py-sdk-tpl")
    try:
        assert sandbox.files.read("/etc/py-sdk-mark") == "built\n"
    finally:
        sandbox.kill()
    with pytest.raises(InvalidArgumentError):
        Templates.build({"name": "py-sdk-bad", "from": {"nothing": {}}})


def test_templates_upload_streams_a_docker_archive() -> None:
    with open(os.environ["AGENTBOX_TEST_DOCKER_ARCHIVE"], "rb") as archive:
        uploaded = Templates.upload("py-sdk-upload", archive, ref="py-sdk/upload:v1")  # a name with a registry path
    assert uploaded.name == "py-sdk-upload" and uploaded.state == "ready"
    assert "py-sdk-upload" in [t.name for t in Templates.list()]
    with Sandbox.create(template="py-sdk-upload") as sandbox:
        assert sandbox.commands.run("busybox echo uploaded").stdout == "uploaded\n"
    with pytest.raises(InvalidArgumentError):
        Templates.upload("py-sdk-upload-bad", b"not an archive")


def test_pools_set_claim_and_delete() -> None:
    pool = Pools.set("busybox", size=1)
    assert pool.template == "busybox" and pool.size == 1
    try:
        wait_until("a warm busybox sandbox", lambda: Pools.get("busybox").ready == 1)
        assert "busybox" in [p.template for p in Pools.list()]
        claimed = Sandbox.create(template="busybox")
        try:
            assert claimed.get_info().from_pool is True
        finally:
            claimed.kill()
    finally:
        Pools.delete("busybox")
    with pytest.raises(NotFoundError):
        Pools.get("busybox")
    with pytest.raises(InvalidArgumentError):
        Pools.set("busybox", size=1, buffer_min=1)


def test_volumes_create_list_get_mount_at_create_and_delete_refused_while_mounted() -> None:
    v = Volumes.create("py-sdk-data", size_mib=64)
    assert v.size_mib == 64 and v.name == "py-sdk-data"
    assert "py-sdk-data" in [x.name for x in Volumes.list()]
    assert Volumes.get("py-sdk-data").id == v.id == Volumes.get(v.id).id
    mount = [{"name": "py-sdk-data", "path": "/mnt/data"}]
    with Sandbox.create(template="busybox", volumes=mount) as sbx:
        sbx.files.write("/mnt/data/kept.txt", "on the volume")
        with pytest.raises(ConflictError):
            Volumes.delete("py-sdk-data")
    with Sandbox.create(template="busybox", volumes=mount) as again:
        assert again.files.read("/mnt/data/kept.txt") == "on the volume", "a volume's files outlive its sandbox"
    Volumes.delete("py-sdk-data")
    with pytest.raises(NotFoundError):
        Volumes.get("py-sdk-data")
    with pytest.raises(InvalidArgumentError):
        Volumes.create("bad name")
    with pytest.raises(InvalidArgumentError, match="volume 'py-sdk-none' not found"):
        Sandbox.create(template="busybox", volumes=[{"name": "py-sdk-none", "path": "/mnt/data"}])


def test_events_stored_filtered_by_sandbox_type_and_seq_then_followed_live() -> None:
    sbx = Sandbox.create(template="busybox", metadata={"who": "py-events"})
    sbx.pause()
    sbx.resume()
    mine = list(sbx.events())
    assert [e.type for e in mine] == ["sandbox.lifecycle.created", "sandbox.lifecycle.paused", "sandbox.lifecycle.resumed"]
    assert mine[0].metadata == {"who": "py-events"} and mine[0].sandbox_id == sbx.sandbox_id
    created = list(Sandbox.events(types=["sandbox.lifecycle.created"]))
    assert any(e.sandbox_id == sbx.sandbox_id for e in created)
    assert all(e.type == "sandbox.lifecycle.created" for e in created)
    assert [e.seq for e in Sandbox.events(sandbox_id=sbx.sandbox_id, after=mine[1].seq)] == [mine[2].seq]
    # Followed: the stored events first, then the kill as it happens.
    live = sbx.events(follow=True)
    assert [next(live).seq for _ in mine] == [e.seq for e in mine]
    sbx.kill()
    killed = next(live)
    live.close()
    assert (killed.type, killed.data.reason) == ("sandbox.lifecycle.killed", "killed")
