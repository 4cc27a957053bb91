/**
 * E2B's lifecycle events API and webhooks (https://e2b.dev/docs/sandbox/lifecycle-events-api,
 * https://e2b.dev/docs/sandbox/lifecycle-events-webhooks): routes, queries and shapes. No E2B SDK
 * has a client for them (npm `e2b` 2.51.0's dist has no `/events` route), so these follow E2B's
 * documentation; a webhook's POST body is the same event object the list routes answer.
 */
import { z } from 'zod';
import { EventTypeName, type SandboxEventView } from './events.ts';
import { defineRoutes, repeated } from './route.ts';

/** A `?name=` number within bounds, with E2B's way of saying which bound. */
const boundedInt = (name: string, min: number, max: number, dflt: number) => z.string().optional().transform((raw, ctx) => {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= min && n <= max) return n;
  ctx.addIssue({ code: 'custom', message: `${name} must be an integer from ${min} to ${max}` });
  return z.NEVER;
});

const Bool = (name: string) => z.string().optional().transform((raw, ctx) => {
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  ctx.addIssue({ code: 'custom', message: `${name} must be true or false` });
  return z.NEVER;
});

export const EventsQuery = z.object({
  offset: boundedInt('offset', 0, 1_000_000, 0),
  limit: boundedInt('limit', 1, 100, 10),
  orderAsc: Bool('orderAsc'),
  types: repeated(z.array(EventTypeName).max(16).optional()),
});

/** One event, as the list routes answer it and as a webhook receives it. */
export const E2bEvent = z.object({
  version: z.literal('v1'),
  id: z.string(),
  type: EventTypeName,
  /** The older shape's fields, still sent: `lifecycle` and `create`, `kill`, `update`, `pause`, `resume`. */
  eventCategory: z.literal('lifecycle'),
  eventLabel: z.enum(['create', 'update', 'pause', 'resume', 'kill']),
  eventData: z.object({
    sandbox_metadata: z.record(z.string(), z.string()).optional(),
    set_timeout: z.string().optional(),
    execution: z.object({ started_at: z.string(), vcpu_count: z.number(), memory_mb: z.number().int(), execution_time: z.number().int() }).optional(),
  }).nullable(),
  sandboxBuildId: z.string(),
  sandboxExecutionId: z.string(),
  sandboxId: z.string(),
  sandboxTeamId: z.string(),
  sandboxTemplateId: z.string(),
  timestamp: z.string(),
});
export type E2bEvent = z.infer<typeof E2bEvent>;

const WebhookUrl = z.string().max(2048).url();
const WebhookEvents = z.array(EventTypeName).min(1).max(16);
const Secret = z.string().min(8, 'signatureSecret must be at least 8 characters').max(256);
const WebhookName = z.string().min(1).max(128);

export const NewWebhook = z.looseObject({
  name: WebhookName.optional(),
  url: WebhookUrl,
  enabled: z.boolean().default(true),
  events: WebhookEvents,
  signatureSecret: Secret,
});
/** Fields given replace the webhook's; the rest stay. */
export const WebhookPatch = z.looseObject({
  name: WebhookName.optional(),
  url: WebhookUrl.optional(),
  enabled: z.boolean().optional(),
  events: WebhookEvents.optional(),
  signatureSecret: Secret.optional(),
});

/** A webhook as E2B shows it: never its secret. */
export const Webhook = z.object({
  id: z.string(), teamId: z.string(), name: z.string(), createdAt: z.string(), enabled: z.boolean(),
  url: z.string(), events: z.array(EventTypeName),
});

export const e2bEventsApi = defineRoutes({
  listSandboxesEvents: { method: 'GET', path: '/events/sandboxes', query: EventsQuery, status: 200, response: z.array(E2bEvent) },
  listSandboxEvents: { method: 'GET', path: '/events/sandboxes/{id}', query: EventsQuery, status: 200, response: z.array(E2bEvent) },
  createWebhook: { method: 'POST', path: '/events/webhooks', body: NewWebhook, status: 201, response: Webhook },
  listWebhooks: { method: 'GET', path: '/events/webhooks', status: 200, response: z.array(Webhook) },
  getWebhook: { method: 'GET', path: '/events/webhooks/{webhookID}', status: 200, response: Webhook },
  updateWebhook: { method: 'PATCH', path: '/events/webhooks/{webhookID}', body: WebhookPatch, status: 200, response: Webhook },
  deleteWebhook: { method: 'DELETE', path: '/events/webhooks/{webhookID}', status: 204 },
});

export type E2bEventsApi = typeof e2bEventsApi;

const LABELS = {
  'sandbox.lifecycle.created': 'create', 'sandbox.lifecycle.updated': 'update', 'sandbox.lifecycle.paused': 'pause',
  'sandbox.lifecycle.resumed': 'resume', 'sandbox.lifecycle.killed': 'kill',
} as const satisfies Record<SandboxEventView['type'], E2bEvent['eventLabel']>;

/**
 * An event in E2B's shape. agentbox has no template builds or executions apart from the sandbox:
 * `sandboxBuildId` and `sandboxTemplateId` are the template's name, `sandboxExecutionId` the
 * sandbox's id, `sandboxTeamId` the tenant's id.
 */
export function toE2bEvent(e: SandboxEventView): E2bEvent {
  const data: NonNullable<E2bEvent['eventData']> = {};
  if (Object.keys(e.metadata).length) data.sandbox_metadata = e.metadata;
  if (e.data.expiresAt) data.set_timeout = e.data.expiresAt;
  const x = e.data.execution;
  if (x) data.execution = { started_at: x.startedAt, vcpu_count: x.cpu, memory_mb: x.memoryMiB, execution_time: x.runtimeMs };
  return {
    version: 'v1', id: e.id, type: e.type, eventCategory: 'lifecycle', eventLabel: LABELS[e.type],
    eventData: Object.keys(data).length ? data : null,
    sandboxBuildId: e.template, sandboxExecutionId: e.sandboxId, sandboxId: e.sandboxId, sandboxTeamId: e.tenantId,
    sandboxTemplateId: e.template, timestamp: e.timestamp,
  };
}
