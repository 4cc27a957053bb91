/** An `events` row (db.ts) as the event it records. */
import type { EventData, EventType, SandboxEventView } from '../../api/events.ts';

export interface EventRow {
  seq: number; id: string; tenant_id: string; sandbox_id: string; type: string; template: string; metadata: string; data: string; at: number;
}

export const eventFromRow = (r: EventRow): SandboxEventView => ({
  seq: r.seq, id: r.id, type: r.type as EventType, sandboxId: r.sandbox_id, tenantId: r.tenant_id, template: r.template,
  metadata: JSON.parse(r.metadata) as Record<string, string>, timestamp: new Date(r.at).toISOString(), data: JSON.parse(r.data) as EventData,
});
