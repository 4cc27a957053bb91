// The conversion webhook: an HTTPS server answering ConversionReview (apiextensions.k8s.io/v1)
// on /convert, plus the start-up step that points the CRDs at it with our CA bundle.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { conversionSpec, crdName, type WebhookTarget } from '../../api/k8s/crds.ts';
import { ALL_KINDS } from '../../api/k8s/schemas.ts';
import { CRDS, type KubeClient } from '../client.ts';
import type { KubeObject } from '../../api/k8s/types.ts';
import { convertObject } from './convert.ts';
import type { WebhookCerts } from './certs.ts';

interface ConversionReview {
  apiVersion: string;
  kind: 'ConversionReview';
  request?: { uid: string; desiredAPIVersion: string; objects: (KubeObject & { apiVersion: string; kind: string })[] };
}

const MAX_BODY = 32 * 1024 * 1024;

export interface RunningWebhook { port: number; close(): Promise<void> }

export function startConversionWebhook(opts: { certs: WebhookCerts; port: number; host?: string }): Promise<RunningWebhook> {
  const server = https.createServer({ cert: opts.certs.certPem, key: opts.certs.keyPem }, (req, res) => {
    if (req.method !== 'POST' || !req.url?.startsWith('/convert')) { res.writeHead(404).end(); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => { size += c.length; if (size > MAX_BODY) req.destroy(); else chunks.push(c); });
    req.on('end', () => {
      let review: ConversionReview;
      try { review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ConversionReview; } catch {
        res.writeHead(400).end('invalid ConversionReview');
        return;
      }
      const r = review.request;
      if (!r) { res.writeHead(400).end('missing request'); return; }
      let response: Record<string, unknown>;
      try {
        const convertedObjects = r.objects.map((o) => convertObject(o, r.desiredAPIVersion));
        response = { uid: r.uid, convertedObjects, result: { status: 'Success' } };
      } catch (e) {
        response = { uid: r.uid, convertedObjects: [], result: { status: 'Failure', message: (e as Error).message } };
      }
      const body = JSON.stringify({ apiVersion: review.apiVersion, kind: 'ConversionReview', response });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}

/**
 * Points every CRD's conversion webhook at `target` with our CA (merge patch, idempotent). The
 * operator owns `spec.conversion` whole: the generated manifests leave it out (see buildCrd), so a
 * user's later `kubectl apply` of them neither conflicts with nor undoes this patch.
 */
export async function patchCrdConversion(client: KubeClient, target: WebhookTarget, caPem: string): Promise<void> {
  for (const kind of ALL_KINDS) {
    const conversion = conversionSpec({ webhook: target, caBundlePem: caPem });
    // Merge patch: the other addressing mode must be removed explicitly.
    const other = 'url' in target ? { service: null } : { url: null };
    Object.assign(conversion.webhook.clientConfig, other);
    await client.patch(CRDS, undefined, crdName(kind), { spec: { conversion } });
  }
}
