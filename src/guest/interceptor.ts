/**
 * The RPC edge: every call must carry the access token (when one is set), and whatever a
 * handler throws leaves as a ConnectError translated by table (errors.ts).
 */
import type { Interceptor } from '@connectrpc/connect';
import { requireToken } from './auth.ts';
import type { GuestContext } from './context.ts';
import { toConnectError } from './errors.ts';
import { ACCESS_TOKEN_HEADER } from '../api/envd-protocol.ts';

async function* translated<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (err) {
    throw toConnectError(err);
  }
}

export function guestInterceptor(g: GuestContext): Interceptor {
  return (next) => async (req) => {
    try {
      requireToken(g, req.header.get(ACCESS_TOKEN_HEADER));
      const res = await next(req);
      return res.stream ? { ...res, message: translated(res.message) } : res;
    } catch (err) {
      throw toConnectError(err);
    }
  };
}
