/**
 * Sandbox lifecycle events (issue 15): the event types, named as E2B names them
 * (https://e2b.dev/docs/sandbox/lifecycle-events-api), and the native `/v1/events` wire schemas.
 * Every API that changes a sandbox (native, E2B, OpenSandbox) produces the same events; the
 * E2B shapes of them are in e2b-events.ts.
 */
import { z } from 'zod';
import { repeated } from './route.ts';

export const EVENT_TYPES = [
  'sandbox.lifecycle.created',
  'sandbox.lifecycle.updated',
  'sandbox.lifecycle.paused',
  'sandbox.lifecycle.resumed',
  'sandbox.lifecycle.killed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const EventTypeName = z.enum(EVENT_TYPES);

/** How long events are kept (E2B: 7 days). */
export const EVENT_RETENTION_MS = 7 * 24 * 3600 * 1000;

/**
 * What an event says beyond its type. `reason` on killed: `killed` (a kill call) or `expired`
 * (its timeout ran out); on paused: `requested` or `timeout`. `expiresAt` on updated: the new
 * end of the sandbox's timer. `execution` on killed and paused: the run that ended.
 */
export const EventData = z.object({
  reason: z.enum(['killed', 'expired', 'requested', 'timeout']).optional(),
  expiresAt: z.string().optional(),
  execution: z.object({ startedAt: z.string(), cpu: z.number(), memoryMiB: z.number().int(), runtimeMs: z.number().int() }).optional(),
});
export type EventData = z.infer<typeof EventData>;

export const SandboxEvent = z.object({
  /** Position in the server's log: the SSE `id`, and what `after` (or Last-Event-ID) takes. */
  seq: z.number().int(),
  id: z.string(),
  type: EventTypeName,
  sandboxId: z.string(),
  tenantId: z.string(),
  template: z.string(),
  metadata: z.record(z.string(), z.string()),
  timestamp: z.string(),
  data: EventData,
}).meta({ id: 'SandboxEvent' });
export type SandboxEventView = z.infer<typeof SandboxEvent>;

export const EventList = z.object({ events: z.array(SandboxEvent) }).meta({ id: 'EventList' });

/** Most events one list answer holds. */
export const MAX_EVENT_PAGE = 1000;

export const ListEventsQuery = z.object({
  sandboxId: z.string().max(64).optional(),
  /** `types=a&types=b` or `types=a,b`. */
  types: repeated(z.array(z.string().max(200)).max(16).optional()
    .transform((v) => v?.flatMap((t) => t.split(',')).filter(Boolean))
    .pipe(z.array(EventTypeName).optional())),
  since: z.iso.datetime({ offset: true }).optional().describe('ISO 8601: events at or after this time'),
  after: z.coerce.number().int().min(0).optional().describe('events after this seq (what Last-Event-ID resumes from)'),
  limit: z.coerce.number().int().min(1).max(MAX_EVENT_PAGE).default(100),
}).strict();
export type ListEventsQuery = z.infer<typeof ListEventsQuery>;
