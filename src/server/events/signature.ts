/**
 * E2B's webhook signature (https://e2b.dev/docs/sandbox/lifecycle-events-webhooks, "Webhook
 * verification"): the SHA-256 of the signature secret followed by the raw body, base64 without
 * its `=` padding, sent as `e2b-signature` with `e2b-signature-version: v1`.
 */
import { createHash } from 'node:crypto';

export const SIGNATURE_VERSION = 'v1';

export function e2bSignature(secret: string, body: string): string {
  return createHash('sha256').update(secret + body).digest('base64').replace(/=+$/, '');
}
