/**
 * E2B's lifecycle events and webhooks routes (src/api/e2b-events.ts), served beside the control
 * API. Translation only: the backend's EventOps reads the events and keeps the webhooks.
 */
import type { z } from 'zod';
import { e2bEventsApi, toE2bEvent, type E2bEventsApi, type EventsQuery } from '../../api/e2b-events.ts';
import type { EventQuery, SandboxBackend, WebhookDetail } from '../../server/backend.ts';
import type { ControlHandlers } from './control.ts';

export { e2bEventsApi };

const page = (q: z.output<typeof EventsQuery>): EventQuery => ({
  limit: q.limit, offset: q.offset, order: q.orderAsc ? 'asc' : 'desc', ...(q.types?.length ? { types: q.types } : {}),
});

const webhookView = (w: WebhookDetail) => ({
  id: w.id, teamId: w.tenantId, name: w.name, createdAt: w.createdAt, enabled: w.enabled, url: w.url, events: w.events,
});

export function eventHandlers(backend: SandboxBackend): ControlHandlers<E2bEventsApi> {
  const ev = backend.events;
  return {
    async listSandboxesEvents({ principal, query }) {
      return { body: ev.list(principal, page(query)).map(toE2bEvent) };
    },
    async listSandboxEvents({ principal, params, query }) {
      return { body: ev.list(principal, { ...page(query), sandboxId: params.id }).map(toE2bEvent) };
    },
    async createWebhook({ principal, body }) {
      return { body: webhookView(ev.createWebhook(principal, { ...body, ...(body.name !== undefined ? { name: body.name } : {}) })) };
    },
    async listWebhooks({ principal }) {
      return { body: ev.listWebhooks(principal).map(webhookView) };
    },
    async getWebhook({ principal, params }) {
      return { body: webhookView(ev.getWebhook(principal, params.webhookID)) };
    },
    async updateWebhook({ principal, params, body }) {
      const { name, url, enabled, events, signatureSecret } = body;
      const patch = {
        ...(name !== undefined ? { name } : {}), ...(url !== undefined ? { url } : {}), ...(enabled !== undefined ? { enabled } : {}),
        ...(events !== undefined ? { events } : {}), ...(signatureSecret !== undefined ? { signatureSecret } : {}),
      };
      return { body: webhookView(ev.updateWebhook(principal, params.webhookID, patch)) };
    },
    async deleteWebhook({ principal, params }) {
      ev.deleteWebhook(principal, params.webhookID);
    },
  };
}
