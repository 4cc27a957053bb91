/**
 * Handlers bound to a typed route table (src/api/route.ts): each receives the inferred types of
 * its own route's path, query and body schemas, and answers with its response schema's type.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BodyOf, PathParams, QueryOf, ResponseOf, RouteDef } from '../api/route.ts';
import type { Principal } from '../server/backend.ts';

/** A handler's answer when it wrote the response itself (streams, bytes); compared by identity. */
export interface Responded { readonly responded: true }
export const RESPONDED: Responded = Object.freeze({ responded: true });

export interface HandlerContext<D extends RouteDef> {
  req: IncomingMessage;
  res: ServerResponse;
  principal: Principal;
  params: PathParams<D['path']>;
  query: QueryOf<D>;
  body: BodyOf<D>;
  /** Raw body as it arrives, for routes with `rawBody` (bounded by the server's maxFileBytes). */
  raw?: AsyncIterable<Uint8Array>;
}

type Result<D extends RouteDef> = ResponseOf<D> | Responded | (ResponseOf<D> extends undefined ? void : never);
export type Handler<D extends RouteDef> = (ctx: HandlerContext<D>) => Result<D> | Promise<Result<D>>;
export type Handlers<T extends Record<string, RouteDef>> = { [K in keyof T]: Handler<T[K]> };

/** What the dispatcher hands any handler: the validated request, before its route's types are known. */
export interface RawContext { params: Record<string, string>; query: unknown; body: unknown }

/**
 * The handler of a route by id. The compiler has checked every handler against its own route;
 * dispatch by a runtime id cannot keep those types, so they are erased here, once.
 */
export function handlerFor<C extends RawContext, R = unknown>(handlers: object, id: string): (ctx: C) => R {
  return (handlers as Record<string, (ctx: C) => R>)[id]!;
}
