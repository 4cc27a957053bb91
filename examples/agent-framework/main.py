"""Runs the agent on one task, its tools in a sandbox claimed from a warm pool.

Usage: python main.py --router URL --namespace NS --warm-pool POOL [--task TEXT]
(KUBECONFIG in the environment: the client creates and deletes the SandboxClaim.)
Prints the transcript as one JSON line.
"""
from __future__ import annotations

import argparse

from k8s_agent_sandbox import SandboxClient
from k8s_agent_sandbox.models import SandboxDirectConnectionConfig

from agent import Agent, SandboxTools, transcript_json
from scripted_model import ScriptedModel


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--router", required=True, help="the sandbox router's URL")
    p.add_argument("--namespace", default="default")
    p.add_argument("--warm-pool", required=True)
    p.add_argument("--task", default="Find the first ten primes and their sum.")
    a = p.parse_args()

    client = SandboxClient(connection_config=SandboxDirectConnectionConfig(api_url=a.router))
    sandbox = client.create_sandbox(a.warm_pool, namespace=a.namespace, sandbox_ready_timeout=120)
    try:
        answer, transcript = Agent(ScriptedModel(), SandboxTools(sandbox)).run(a.task)
        print(transcript_json(answer, transcript, claim=sandbox.claim_name, sandbox=sandbox.sandbox_id))
    finally:
        sandbox.terminate()


if __name__ == "__main__":
    main()
