"""A scripted stand-in for the language model.

There is no LLM here (and no internet to reach one), so this model plays a fixed plan for one
task. It still behaves like a model in the loop: each action depends on the transcript so far,
and the final answer is built from what the tools returned, so a tool that ran anywhere but in
the sandbox, or returned something else, shows in the answer. Swap in a real model by
implementing ``Model.next_action`` (agent.py) over your LLM's tool-calling API.
"""
from __future__ import annotations

import json

from agent import FinalAnswer, Model, ToolCall, Transcript

PRIMES_CODE = """
import json
primes = [n for n in range(2, 60) if all(n % d for d in range(2, int(n ** 0.5) + 1))][:10]
with open("primes.json", "w") as f:
    json.dump(primes, f)
print(sum(primes))
"""

KERNEL_CODE = """
import subprocess
print(subprocess.run(["dmesg"], capture_output=True, text=True).stdout.splitlines()[0])
"""


class ScriptedModel(Model):
    """Plan: compute primes in the sandbox, read the file they were saved to, write a report,
    ask the sandbox which kernel it runs on, answer."""

    def next_action(self, transcript: Transcript) -> ToolCall | FinalAnswer:
        done = len(transcript.steps)
        if done == 0:
            return ToolCall("run_code", {"code": PRIMES_CODE})
        if done == 1:
            return ToolCall("read_file", {"path": "primes.json"})
        if done == 2:
            primes = json.loads(transcript.steps[1].result["content"])
            total = transcript.steps[0].result["stdout"].strip()
            return ToolCall("write_file", {"path": "report.md", "content": f"# Primes\n\n{primes}\n\nsum: {total}\n"})
        if done == 3:
            return ToolCall("run_code", {"code": KERNEL_CODE})
        primes = json.loads(transcript.steps[1].result["content"])
        kernel = transcript.steps[3].result["stdout"].strip()
        return FinalAnswer(f"The first {len(primes)} primes sum to {sum(primes)}; computed on: {kernel}")
