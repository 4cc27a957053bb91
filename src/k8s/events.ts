// Kubernetes Events (events.k8s.io/v1). Best effort: an event that cannot be written is logged by
// the caller's onError and never fails a reconcile.
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../api/k8s/types.ts';
import { EVENTS, type KubeClient } from './client.ts';

export interface EventRecorder {
  record(regarding: KubeObject & { apiVersion?: string; kind?: string }, type: 'Normal' | 'Warning',
    reason: string, action: string, note: string): void;
}

export function eventRecorder(client: KubeClient, controller: string, onError: (e: unknown) => void): EventRecorder {
  return {
    record(regarding, type, reason, action, note) {
      const now = new Date().toISOString();
      const ns = regarding.metadata.namespace ?? 'default';
      client.create(EVENTS, ns, {
        metadata: { name: `${regarding.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
        eventTime: now.replace('Z', '000Z'),
        reportingController: `agentbox.dev/${controller}`,
        reportingInstance: controller,
        action, reason, type, note: note.slice(0, 1024),
        regarding: {
          apiVersion: regarding.apiVersion, kind: regarding.kind, name: regarding.metadata.name,
          namespace: ns, uid: regarding.metadata.uid, resourceVersion: regarding.metadata.resourceVersion,
        },
      } as KubeObject).catch(onError);
    },
  };
}
