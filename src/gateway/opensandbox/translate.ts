/**
 * Pure translations between OpenSandbox's vocabulary and agentbox's: image → template name,
 * Kubernetes quantities → cores and MiB, network policy → egress rules, states. No I/O, so
 * translate.test.ts covers every rule without a server.
 */
import { invalidArgument } from '../../api/errors.ts';
import { parseCpu, parseMemoryMiB } from '../../api/quantity.ts';
import type { NetworkPolicy as NativeNetworkPolicy } from '../../api/native.ts';
import type { z } from 'zod';
import type { NetworkPolicy } from '../../api/opensandbox.ts';
import type { EgressPolicy, SandboxDetail } from '../../server/backend.ts';

type RecordState = SandboxDetail['state'];

/**
 * The agentbox template an image names (docs/opensandbox.md, "Images and templates"): the
 * registry and `library/` are dropped, then the last path segment, with its tag joined by `-`
 * unless the tag is `latest`, lowercased. `python:3.11` → `python-3.11`,
 * `docker.io/library/ubuntu:latest` → `ubuntu`, `opensandbox/code-interpreter:v1.0.1` →
 * `code-interpreter-v1.0.1`, `base` → `base`. A digest (`@sha256:…`) is ignored: agentbox
 * templates are versioned by name.
 */
export function templateForImage(uri: string): string {
  const noDigest = uri.split('@')[0]!;
  const lastSlash = noDigest.lastIndexOf('/');
  const last = noDigest.slice(lastSlash + 1);
  const colon = last.indexOf(':');
  const name = colon < 0 ? last : last.slice(0, colon);
  const tag = colon < 0 ? '' : last.slice(colon + 1);
  const joined = tag && tag !== 'latest' ? `${name}-${tag}` : name;
  return joined.toLowerCase();
}

/** What of `resourceLimits` agentbox applies: cpu and memory; a GPU cannot be given to a sandbox here. */
export function resourcesOf(limits: Record<string, string>): { cpu?: number; memoryMiB?: number } {
  const gpu = limits.gpu;
  if (gpu !== undefined && Number(gpu) !== 0) throw invalidArgument('resourceLimits.gpu: agentbox sandboxes have no GPU; remove the gpu limit');
  return {
    ...(limits.cpu !== undefined ? { cpu: parseCpu(limits.cpu, 'resourceLimits.cpu') } : {}),
    ...(limits.memory !== undefined ? { memoryMiB: parseMemoryMiB(limits.memory, 'resourceLimits.memory') } : {}),
  };
}

/** OpenSandbox's egress policy → agentbox's: its rules become allow and deny lists (OpenSandbox defaults to deny). */
export function egressOf(policy: z.output<typeof NetworkPolicy>): z.output<typeof NativeNetworkPolicy> {
  const rules = policy.egress ?? [];
  return {
    defaultAction: policy.defaultAction ?? 'deny',
    allow: rules.filter((r) => r.action === 'allow').map((r) => r.target),
    deny: rules.filter((r) => r.action === 'deny').map((r) => r.target),
  };
}

type Rule = { action: 'allow' | 'deny'; target: string };

/** agentbox's egress rules as OpenSandbox's egress sidecar reports them (`GET /policy` on 18080). */
export function rulesOf(p: EgressPolicy): { defaultAction: 'allow' | 'deny'; egress: Rule[] } {
  return {
    defaultAction: p.defaultAction,
    egress: [...p.allow.map((target) => ({ action: 'allow' as const, target })), ...p.deny.map((target) => ({ action: 'deny' as const, target }))],
  };
}

/** `PATCH /policy`: each incoming rule replaces any rule for the same target (the incoming one wins). */
export function patchRules(p: EgressPolicy, rules: Rule[]): EgressPolicy {
  const incoming = new Set(rules.map((r) => r.target));
  const keep = (list: string[]) => list.filter((t) => !incoming.has(t));
  return {
    defaultAction: p.defaultAction,
    allow: [...keep(p.allow), ...rules.filter((r) => r.action === 'allow').map((r) => r.target)],
    deny: [...keep(p.deny), ...rules.filter((r) => r.action === 'deny').map((r) => r.target)],
  };
}

/** `DELETE /policy`: the rules for these targets go; the default action stays. */
export function withoutTargets(p: EgressPolicy, targets: string[]): EgressPolicy {
  const gone = new Set(targets);
  return { defaultAction: p.defaultAction, allow: p.allow.filter((t) => !gone.has(t)), deny: p.deny.filter((t) => !gone.has(t)) };
}

const STATE: Record<RecordState, string> = {
  creating: 'Pending', running: 'Running', paused: 'Paused', failed: 'Failed',
};

/** agentbox state → OpenSandbox's state name. */
export const openSandboxState = (s: RecordState): string => STATE[s];

/** OpenSandbox state names (any case) → the agentbox states they match; names agentbox never reaches match none. */
export function recordStates(names: string[]): RecordState[] {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  return (Object.entries(STATE) as [RecordState, string][]).filter(([, name]) => wanted.has(name.toLowerCase())).map(([s]) => s);
}
