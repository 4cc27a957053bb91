/** Backend results → E2B wire objects (the answer schemas of src/api/e2b.ts; field names are exact). */
import type { z } from 'zod';
import type * as E from '../../api/e2b.ts';
import type { SandboxDetail, SandboxUsage, SnapshotDetail } from '../../server/backend.ts';

/** Deprecated in E2B, still required by its schema; E2B's own API returns this constant. */
const CLIENT_ID = '6532622b';
/** Reported before the engine knows a sandbox (never lower than the SDKs' 0.1.0 floor). */
const FALLBACK_ENVD_VERSION = '0.1.0';

/** E2B knows two states; creating and failed sandboxes show as running (Python parses a strict enum). */
const e2bState = (s: string): E.E2bState => (s === 'paused' ? 'paused' : 'running');

/** `trafficToken`: set when the sandbox's ports are private (`allowPublicTraffic: false`). */
export function sandboxObject(d: SandboxDetail, trafficToken?: string): z.input<typeof E.Sandbox> {
  return {
    templateID: d.template, alias: d.template, sandboxID: d.id, clientID: CLIENT_ID,
    envdVersion: d.guest?.envdVersion ?? FALLBACK_ENVD_VERSION,
    envdAccessToken: d.guest?.accessToken,
    trafficAccessToken: trafficToken ?? null,
    domain: null,
  };
}

function endAt(d: SandboxDetail): string {
  if (d.state === 'paused' && d.pausedAt) return d.pausedAt;
  return d.expiresAt ?? new Date(Date.parse(d.createdAt) + d.timeoutSeconds * 1000).toISOString();
}

export function listedSandbox(d: SandboxDetail): z.input<typeof E.ListedSandbox> {
  return {
    templateID: d.template, alias: d.template, sandboxID: d.id, clientID: CLIENT_ID,
    startedAt: d.createdAt, endAt: endAt(d),
    // The size of the sandbox's own disk; 0 while the engine does not know the sandbox.
    cpuCount: Math.max(1, Math.ceil(d.cpu)), memoryMB: d.memoryMiB, diskSizeMB: d.diskMiB ?? 0,
    state: e2bState(d.state), envdVersion: d.guest?.envdVersion ?? FALLBACK_ENVD_VERSION,
    metadata: d.metadata, volumeMounts: d.volumeMounts ?? [],
  };
}

export function sandboxDetail(d: SandboxDetail, trafficToken?: string): z.input<typeof E.SandboxDetail> {
  const egress = d.egress;
  return {
    ...listedSandbox(d),
    envdAccessToken: d.guest?.accessToken,
    trafficAccessToken: trafficToken ?? null,
    domain: null,
    allowInternetAccess: egress ? egress.defaultAction === 'allow' : null,
    // E2B knows kill and pause; whether memory is kept is not part of its lifecycle view.
    lifecycle: { autoResume: d.autoResume, onTimeout: d.onTimeout === 'kill' ? 'kill' : 'pause' },
    ...(egress ? { network: { allowOut: egress.allow, denyOut: egress.defaultAction === 'deny' ? ['0.0.0.0/0', ...egress.deny] : egress.deny, allowPublicTraffic: trafficToken === undefined } } : {}),
  };
}

/** One point-in-time sample in E2B's SandboxMetric shape; CPU % is averaged over the sandbox's life. */
export function metricPoint(u: SandboxUsage, d: SandboxDetail, nowMs: number): z.input<typeof E.SandboxMetric> {
  const cpuCount = Math.max(1, Math.ceil(d.cpu));
  const lifeNanos = Math.max(1, (nowMs - Date.parse(d.createdAt)) * 1e6);
  return {
    timestamp: new Date(nowMs).toISOString(), timestampUnix: Math.floor(nowMs / 1000),
    cpuCount, cpuUsedPct: Math.min(100, (u.cpuNanos / lifeNanos / cpuCount) * 100),
    memUsed: u.memoryBytes, memTotal: d.memoryMiB * 1024 * 1024, memCache: 0,
    diskUsed: u.disk?.usedBytes ?? 0, diskTotal: u.disk?.limitBytes ?? (d.diskMiB ?? 0) * 1024 * 1024,
  };
}

export function snapshotInfo(s: SnapshotDetail): z.input<typeof E.SnapshotInfo> {
  return { snapshotID: s.id, names: s.name ? [s.name] : [] };
}
