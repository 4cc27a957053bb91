"""A minimal tool-calling agent whose tools run in an Agent Sandbox.

The loop is the one every agent framework has: the model reads the transcript and answers with
either a tool call or a final answer; each tool call runs in the sandbox and its result goes back
into the transcript. The tools use only the upstream Agent Sandbox Python client (PyPI
``k8s-agent-sandbox``): a SandboxClaim on a warm pool, then ``commands.run`` and ``files`` through
the sandbox router. Nothing here knows it talks to agentbox.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Callable, Protocol


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, str]


@dataclass
class FinalAnswer:
    text: str


@dataclass
class Step:
    call: ToolCall
    result: dict


@dataclass
class Transcript:
    task: str
    steps: list[Step] = field(default_factory=list)


class Model(Protocol):
    """What the agent needs from a language model: the next action, given the transcript."""

    def next_action(self, transcript: Transcript) -> ToolCall | FinalAnswer: ...


class SandboxTools:
    """The agent's tools, each one call of the upstream client on one sandbox.

    ``run_code`` is the client's code-execution pattern: the code is written into the sandbox as a
    file and run there with the sandbox's interpreter, so the code never runs on the agent's host.
    """

    def __init__(self, sandbox, timeout: int = 60):
        self.sandbox = sandbox
        self.timeout = timeout

    def run_code(self, code: str) -> dict:
        path = f"agent-{uuid.uuid4().hex[:8]}.py"
        self.sandbox.files.write(path, code)
        res = self.sandbox.commands.run(f"python3 {path}", timeout=self.timeout)
        return {"stdout": res.stdout, "stderr": res.stderr, "exit_code": res.exit_code}

    def write_file(self, path: str, content: str) -> dict:
        self.sandbox.files.write(path, content)
        return {"written": len(content.encode())}

    def read_file(self, path: str) -> dict:
        return {"content": self.sandbox.files.read(path).decode()}

    def table(self) -> dict[str, Callable[..., dict]]:
        return {"run_code": self.run_code, "write_file": self.write_file, "read_file": self.read_file}


class Agent:
    def __init__(self, model: Model, tools: SandboxTools, max_steps: int = 10):
        self.model = model
        self.tools = tools.table()
        self.max_steps = max_steps

    def run(self, task: str) -> tuple[str, Transcript]:
        transcript = Transcript(task)
        for _ in range(self.max_steps):
            action = self.model.next_action(transcript)
            if isinstance(action, FinalAnswer):
                return action.text, transcript
            tool = self.tools.get(action.name)
            # A model asking for a tool that does not exist hears so, as it would from any framework.
            result = tool(**action.arguments) if tool else {"error": f"no tool named {action.name}"}
            transcript.steps.append(Step(action, result))
        raise RuntimeError(f"no final answer after {self.max_steps} steps")


def transcript_json(answer: str, transcript: Transcript, **extra: str) -> str:
    return json.dumps({
        "task": transcript.task,
        "steps": [{"tool": s.call.name, "arguments": s.call.arguments, "result": s.result} for s in transcript.steps],
        "answer": answer,
        **extra,
    })
