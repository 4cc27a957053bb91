/**
 * The upload URLs of E2B's template build API: `GET /templates/{id}/files/{hash}` hands the SDK
 * `<api>/template-uploads/<token>`, and the SDK PUTs the COPY's tar(.gz) there with no API key,
 * as it does to E2B's presigned storage URLs. The token is the signature: 256 random bits, bound
 * to one tenant and files hash, good once and for an hour (records.ts); the body is size-bounded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AgentboxError } from '../../../api/errors.ts';
import { readBody } from '../../body.ts';
import { RECORD_LIMITS, type BuildRecords } from './records.ts';
import { UPLOAD_PATH } from './routes.ts';

/** Serves an upload URL; false when `path` (under the API's prefix) is not one. */
export async function handleUpload(records: BuildRecords, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  const pathname = path.split('?')[0]!;
  if (!pathname.startsWith(UPLOAD_PATH)) return false;
  if (req.method !== 'PUT') throw new AgentboxError('invalid_argument', `${req.method} is not allowed on an upload URL; PUT the archive`);
  const grant = records.redeem(pathname.slice(UPLOAD_PATH.length));
  records.store(grant, await readBody(req, RECORD_LIMITS.uploadBytes));
  res.writeHead(200, { 'Content-Length': '0' });
  res.end();
  return true;
}
