/**
 * server/contract-routes — mounts a route of the REST contract on fastify: parses path params, query and
 * body with the contract's zod schemas (a bad request is an INVALID_PARAMETER error naming the field) and
 * sends the handler's result as JSON, or raw bytes for byte routes. Errors go through server/errors.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { CellarError } from '../../kernel-lib/errors.js';
import { ROUTES, type RouteDef, type RouteName, type RouteOutput } from '../../kernel-lib/rest/contract.js';
import { sendError, type ErrorFlavor } from './errors.js';

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;
type Def<K extends RouteName> = (typeof ROUTES)[K];

/** What a handler receives: the parsed request parts of route definition `D`. */
export interface HandlerInput<D> {
  params: Out<D extends { params: infer P } ? P : undefined>;
  query: Out<D extends { query: infer Q } ? Q : undefined>;
  body: D extends { rawBody: true } ? Buffer : Out<D extends { body: infer B } ? B : undefined>;
  req: FastifyRequest;
  reply: FastifyReply;
}

/** A handler of a cellar route returns the route's response (or bytes, for raw routes). */
export type Handler<K extends RouteName> = (
  input: HandlerInput<Def<K>>,
) => Promise<RouteOutput<K> | Buffer | FastifyReply>;

function parsePart(schema: z.ZodType | undefined, value: unknown, what: string): unknown {
  if (schema === undefined) return undefined;
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue && issue.path.length > 0 ? `${what}.${issue.path.join('.')}` : what;
  throw new CellarError('INVALID_PARAMETER', `Invalid ${field}: ${issue?.message ?? 'bad value'}.`, {
    field,
  });
}

/** Mounts one route definition; errors are answered in the given flavor. */
export function mountRoute<D extends RouteDef>(
  app: FastifyInstance,
  def: D,
  flavor: ErrorFlavor,
  handler: (input: HandlerInput<D>) => Promise<unknown>,
): void {
  app.route({
    method: def.method,
    url: def.path,
    ...(def.rawBody ? { bodyLimit: 256 * 1024 * 1024 } : {}),
    handler: async (req, reply) => {
      try {
        const input = {
          params: parsePart(def.params, req.params, 'path'),
          query: parsePart(def.query, req.query, 'query'),
          body: def.rawBody
            ? Buffer.isBuffer(req.body)
              ? req.body
              : Buffer.alloc(0)
            : parsePart(def.body, req.body, 'body'),
          req,
          reply,
        } as HandlerInput<D>;
        const result = await handler(input);
        if (result === reply) return reply;
        if (Buffer.isBuffer(result)) return reply.send(result);
        return reply.type('application/json; charset=utf-8').send(result);
      } catch (e) {
        return sendError(reply, e, flavor);
      }
    },
  });
}

/** Mounts one route of cellar's contract. */
export function addRoute<K extends RouteName>(app: FastifyInstance, name: K, handler: Handler<K>): void {
  mountRoute(app, ROUTES[name] as Def<K>, 'cellar', handler);
}
