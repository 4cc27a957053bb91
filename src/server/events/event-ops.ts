/**
 * The single-node server's EventOps (backend.ts): the event log read per tenant (an admin reads
 * every tenant's), live subscriptions, and the tenant's webhooks, whose URLs are checked by the
 * target guard when they are registered (and again at every delivery).
 */
import { AgentboxError } from '../../api/errors.ts';
import type { EventOps, Principal, WebhookDetail } from '../backend.ts';
import type { EventLog } from './event-log.ts';
import { checkWebhookUrl } from './target-guard.ts';
import { MAX_WEBHOOKS_PER_TENANT, type Webhook, type WebhookStore } from './webhook-store.ts';

export interface EventOpsParts {
  log: EventLog;
  webhooks: WebhookStore;
  allowPrivateTargets: boolean;
}

const detail = (w: Webhook): WebhookDetail => ({
  id: w.id, tenantId: w.tenantId, name: w.name, url: w.url, events: w.events, enabled: w.enabled, createdAt: new Date(w.createdAt).toISOString(),
});

export function localEventOps({ log, webhooks, allowPrivateTargets }: EventOpsParts): EventOps {
  const scope = (p: Principal) => (p.admin ? {} : { tenantId: p.tenantId });
  const checkUrl = (url: string) => checkWebhookUrl(url, allowPrivateTargets);
  return {
    list: (p, q) => log.list({ ...q, ...scope(p) }),
    subscribe(p, q, onEvent) {
      return log.subscribe((e) => {
        if (!p.admin && e.tenantId !== p.tenantId) return;
        if (q.sandboxId !== undefined && e.sandboxId !== q.sandboxId) return;
        if (q.types?.length && !q.types.includes(e.type)) return;
        onEvent(e);
      });
    },
    createWebhook(p, w) {
      const url = checkUrl(w.url);
      const created = webhooks.create(p.tenantId, { name: w.name ?? url.host, url: w.url, events: w.events, secret: w.signatureSecret, enabled: w.enabled });
      if (!created) throw new AgentboxError('resource_exhausted', `a tenant has at most ${MAX_WEBHOOKS_PER_TENANT} webhooks; delete one first`);
      return detail(created);
    },
    listWebhooks: (p) => webhooks.list(p.tenantId).map(detail),
    getWebhook: (p, id) => detail(webhooks.get(p.tenantId, id)),
    updateWebhook(p, id, patch) {
      if (patch.url !== undefined) checkUrl(patch.url);
      const { signatureSecret, ...rest } = patch;
      return detail(webhooks.update(p.tenantId, id, { ...rest, ...(signatureSecret !== undefined ? { secret: signatureSecret } : {}) }));
    },
    deleteWebhook: (p, id) => webhooks.delete(p.tenantId, id),
  };
}
