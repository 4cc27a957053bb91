/** Service results → E2B wire objects (E2B's published spec, github.com/e2b-dev/E2B `spec/`; field names are exact). */
import type { SandboxUsage } from '../../engine/types.ts';
import type { SandboxDetail } from '../../server/service.ts';
import type { SnapshotRecord } from '../../server/snapshot-store.ts';

/** Deprecated in E2B, still required by its schema; E2B's own API returns this constant. */
const CLIENT_ID = '6532622b';
/** Reported before the engine knows a sandbox (never lower than the SDKs' 0.1.0 floor). */
const FALLBACK_ENVD_VERSION = '0.1.0';

/** E2B knows two states; creating and failed sandboxes show as running (Python parses a strict enum). */
const e2bState = (s: string): 'running' | 'paused' => (s === 'paused' ? 'paused' : 'running');

/** `trafficToken`: set when the sandbox's ports are private (`allowPublicTraffic: false`). */
export function sandboxObject({ record: r, info }: SandboxDetail, trafficToken?: string) {
  return {
    templateID: r.template, alias: r.template, sandboxID: r.id, clientID: CLIENT_ID,
    envdVersion: info?.guest.envdVersion ?? FALLBACK_ENVD_VERSION,
    // Always minted by the engine: the SDKs send it as X-Access-Token and the guest enforces it.
    envdAccessToken: info?.guest.accessToken,
    trafficAccessToken: trafficToken ?? null,
    // null = "use the client's own domain / sandbox URL" (see §2).
    domain: null,
  };
}

function endAt(d: SandboxDetail): string {
  const r = d.record;
  if (r.state === 'paused' && d.info?.pausedAt) return d.info.pausedAt;
  return new Date(r.expiresAt ?? r.createdAt + r.timeoutS * 1000).toISOString();
}

export function listedSandbox(d: SandboxDetail) {
  const r = d.record;
  return {
    templateID: r.template, alias: r.template, sandboxID: r.id, clientID: CLIENT_ID,
    startedAt: new Date(r.createdAt).toISOString(), endAt: endAt(d),
    // The size of the sandbox's own disk; 0 while the engine does not know the sandbox.
    cpuCount: Math.max(1, Math.ceil(r.cpu)), memoryMB: r.memoryMiB, diskSizeMB: d.info?.limits.diskMiB ?? 0,
    state: e2bState(r.state), envdVersion: d.info?.guest.envdVersion ?? FALLBACK_ENVD_VERSION,
    metadata: r.metadata, volumeMounts: [],
  };
}

export function sandboxDetail(d: SandboxDetail, trafficToken?: string) {
  const egress = d.info?.egress;
  return {
    ...listedSandbox(d),
    envdAccessToken: d.info?.guest.accessToken,
    trafficAccessToken: trafficToken ?? null,
    domain: null,
    allowInternetAccess: egress ? egress.defaultAction === 'allow' : null,
    // E2B knows kill and pause; whether memory is kept is not part of its lifecycle view.
    lifecycle: { autoResume: d.record.autoResume, onTimeout: d.record.onTimeout === 'kill' ? 'kill' : 'pause' },
    ...(egress ? { network: { allowOut: egress.allow, denyOut: egress.defaultAction === 'deny' ? ['0.0.0.0/0', ...egress.deny] : egress.deny, allowPublicTraffic: trafficToken === undefined } } : {}),
  };
}

/** One point-in-time sample in E2B's SandboxMetric shape; CPU % is averaged over the sandbox's life. */
export function metricPoint(u: SandboxUsage, d: SandboxDetail, nowMs: number) {
  const cpuCount = Math.max(1, Math.ceil(d.record.cpu));
  const lifeNanos = Math.max(1, (nowMs - d.record.createdAt) * 1e6);
  return {
    timestamp: new Date(nowMs).toISOString(), timestampUnix: Math.floor(nowMs / 1000),
    cpuCount, cpuUsedPct: Math.min(100, (u.cpuNanos / lifeNanos / cpuCount) * 100),
    memUsed: u.memoryBytes, memTotal: d.record.memoryMiB * 1024 * 1024, memCache: 0,
    diskUsed: u.disk?.usedBytes ?? 0, diskTotal: u.disk?.limitBytes ?? (d.info?.limits.diskMiB ?? 0) * 1024 * 1024,
  };
}

/** E2B's SnapshotInfo: the id is what `Sandbox.create` takes as templateID; a name works there too. */
export function snapshotInfo(s: SnapshotRecord) {
  return { snapshotID: s.id, names: s.name ? [s.name] : [] };
}
