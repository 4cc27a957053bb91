/**
 * E2B's view of template builds: one record per requested build (its status, log entries and
 * reason) and the COPY archives uploaded for them. Held in memory and bounded: a build record
 * serves the SDK's polling while it builds, and what it produced outlives it as an agentbox
 * template (the templates table); a server restart forgets the records and pending uploads,
 * never a built template.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { BuildLogEntry, BuildStatusName, LogLevel } from '../../../api/e2b-template-build.ts';
import { AgentboxError, notFound } from '../../../api/errors.ts';

export const RECORD_LIMITS = {
  /** Builds remembered per tenant; the oldest finished ones go first. */
  buildsPerTenant: 100,
  /** Log entries kept per build; later lines are counted, not kept. */
  logEntries: 5000,
  logBytes: 2 * 1024 * 1024,
  /** One COPY's archive, and what a tenant's pending uploads may hold together. */
  uploadBytes: 24 * 1024 * 1024,
  uploadsPerTenantBytes: 96 * 1024 * 1024,
  /** An upload URL works this long, once. */
  uploadUrlMs: 60 * 60 * 1000,
  /** Uploaded archives are kept this long for the build that uses them. */
  uploadKeepMs: 6 * 60 * 60 * 1000,
};

export interface BuildRecord {
  tenantId: string;
  templateID: string;
  buildID: string;
  status: BuildStatusName;
  cpu?: number;
  memoryMiB?: number;
  tags: string[];
  createdAt: number;
  entries: BuildLogEntry[];
  logBytes: number;
  droppedLines: number;
  reason?: { message: string; step?: string };
}

interface Upload { tenantId: string; hash: string; data: Buffer; at: number }
interface UploadGrant { tenantId: string; hash: string; expiresAt: number }

const uploadKey = (tenantId: string, hash: string) => `${tenantId}\n${hash}`;

export class BuildRecords {
  private readonly builds = new Map<string, BuildRecord>();
  private readonly uploads = new Map<string, Upload>();
  private readonly grants = new Map<string, UploadGrant>();

  constructor(private readonly now: () => number) {}

  request(tenantId: string, templateID: string, o: { cpu?: number; memoryMiB?: number; tags: string[] }): BuildRecord {
    this.forgetOldBuilds(tenantId);
    const r: BuildRecord = { tenantId, templateID, buildID: randomUUID(), status: 'waiting', tags: o.tags, createdAt: this.now(), entries: [], logBytes: 0, droppedLines: 0 };
    if (o.cpu !== undefined) r.cpu = o.cpu;
    if (o.memoryMiB !== undefined) r.memoryMiB = o.memoryMiB;
    this.builds.set(r.buildID, r);
    return r;
  }

  /** A tenant's build of that template; another tenant's is not_found, as if it did not exist. */
  get(tenantId: string, templateID: string, buildID: string): BuildRecord {
    const r = this.builds.get(buildID);
    if (!r || r.tenantId !== tenantId || r.templateID !== templateID) throw notFound('template build', buildID);
    return r;
  }

  /** Whether the tenant has requested a build of that template (files may be uploaded for it). */
  hasTemplate(tenantId: string, templateID: string): boolean {
    for (const r of this.builds.values()) if (r.tenantId === tenantId && r.templateID === templateID) return true;
    return false;
  }

  log(r: BuildRecord, message: string, level: LogLevel = 'info', step?: string): void {
    const bytes = Buffer.byteLength(message);
    if (r.entries.length >= RECORD_LIMITS.logEntries || r.logBytes + bytes > RECORD_LIMITS.logBytes) {
      r.droppedLines++;
      return;
    }
    r.logBytes += bytes;
    r.entries.push({ timestamp: new Date(this.now()).toISOString(), level, message, ...(step ? { step } : {}) });
  }

  finish(r: BuildRecord, outcome: { ready: true } | { ready: false; message: string; step?: string }): void {
    if (r.droppedLines > 0) r.entries.push({ timestamp: new Date(this.now()).toISOString(), level: 'warn', message: `${r.droppedLines} more log lines were not kept (at most ${RECORD_LIMITS.logEntries} lines, ${RECORD_LIMITS.logBytes} bytes per build)` });
    if (outcome.ready) {
      r.status = 'ready';
      return;
    }
    r.status = 'error';
    r.reason = { message: outcome.message, ...(outcome.step ? { step: outcome.step } : {}) };
    r.entries.push({ timestamp: new Date(this.now()).toISOString(), level: 'error', message: outcome.message, ...(outcome.step ? { step: outcome.step } : {}) });
  }

  /** Present when the tenant uploaded that hash already; otherwise a one-time upload token. */
  uploadLink(tenantId: string, hash: string): { present: true } | { present: false; token: string } {
    this.forgetOldUploads();
    if (this.uploads.has(uploadKey(tenantId, hash))) return { present: true };
    const token = randomBytes(32).toString('base64url');
    this.grants.set(token, { tenantId, hash, expiresAt: this.now() + RECORD_LIMITS.uploadUrlMs });
    return { present: false, token };
  }

  /** The grant of an upload URL, used up by this call. */
  redeem(token: string): UploadGrant {
    const g = this.grants.get(token);
    this.grants.delete(token);
    if (!g || g.expiresAt < this.now()) throw new AgentboxError('permission_denied', 'this upload URL is unknown, used or expired: ask for a new one (GET /templates/{templateID}/files/{hash})');
    return g;
  }

  store(g: UploadGrant, data: Buffer): void {
    const held = [...this.uploads.values()].filter((u) => u.tenantId === g.tenantId).reduce((n, u) => n + u.data.length, 0);
    if (held + data.length > RECORD_LIMITS.uploadsPerTenantBytes) {
      throw new AgentboxError('resource_exhausted', `pending template uploads would hold more than ${RECORD_LIMITS.uploadsPerTenantBytes} bytes for this tenant: start the builds that use them first`);
    }
    this.uploads.set(uploadKey(g.tenantId, g.hash), { ...g, data, at: this.now() });
  }

  upload(tenantId: string, hash: string): Buffer | undefined {
    return this.uploads.get(uploadKey(tenantId, hash))?.data;
  }

  private forgetOldBuilds(tenantId: string): void {
    const mine = [...this.builds.values()].filter((r) => r.tenantId === tenantId);
    const finished = mine.filter((r) => r.status === 'ready' || r.status === 'error' || r.status === 'waiting');
    for (const r of finished.slice(0, Math.max(0, mine.length - RECORD_LIMITS.buildsPerTenant + 1))) this.builds.delete(r.buildID);
  }

  private forgetOldUploads(): void {
    const now = this.now();
    for (const [k, u] of this.uploads) if (u.at + RECORD_LIMITS.uploadKeepMs < now) this.uploads.delete(k);
    for (const [t, g] of this.grants) if (g.expiresAt < now) this.grants.delete(t);
  }
}
