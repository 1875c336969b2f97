/**
 * server/openapi — `/api/openapi.json`: an OpenAPI 3.1 document generated from the REST contract (cellar's
 * routes and the MLflow-compatible ones), request and response bodies as JSON Schema via `z.toJSONSchema`.
 */
import { z } from 'zod';
import { ROUTES, type RouteDef } from '../../kernel-lib/rest/contract.js';
import { MLFLOW_ROUTES } from '../../kernel-lib/rest/mlflow-contract.js';
import { ErrorBody } from '../../kernel-lib/rest/schemas.js';

function schemaOf(s: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const out = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

function parameters(def: RouteDef): Array<Record<string, unknown>> {
  const list: Array<Record<string, unknown>> = [];
  for (const [where, schema] of [
    ['path', def.params],
    ['query', def.query],
  ] as const) {
    if (!schema) continue;
    const js = schemaOf(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, prop] of Object.entries(js.properties ?? {})) {
      list.push({
        name: name === '*' ? 'path' : name,
        in: where,
        required: where === 'path' || (js.required ?? []).includes(name),
        schema: prop,
      });
    }
  }
  return list;
}

function operation(id: string, def: RouteDef): Record<string, unknown> {
  const op: Record<string, unknown> = {
    operationId: id,
    summary: def.summary,
    tags: [def.tag],
    parameters: parameters(def),
    responses: {
      '200': def.rawResponse
        ? { description: 'raw bytes', content: { 'application/octet-stream': {} } }
        : {
            description: 'OK',
            content: { 'application/json': { schema: schemaOf(def.response, 'output') } },
          },
      default: {
        description: 'error',
        content: { 'application/json': { schema: schemaOf(ErrorBody, 'output') } },
      },
    },
  };
  if (def.rawBody) op.requestBody = { content: { 'application/octet-stream': {} } };
  else if (def.body)
    op.requestBody = { content: { 'application/json': { schema: schemaOf(def.body, 'input') } } };
  if (def.path !== '/health') op.security = [{ bearer: [] }, { cookie: [] }];
  return op;
}

let cached: Record<string, unknown> | null = null;

/** The OpenAPI document of every route (built once). */
export function openApiDocument(version: string): Record<string, unknown> {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  const all: Array<[string, RouteDef]> = [
    ...(Object.entries(ROUTES) as Array<[string, RouteDef]>),
    ...(Object.entries(MLFLOW_ROUTES).map(([k, v]) => [`mlflow.${k}`, v]) as Array<[string, RouteDef]>),
  ];
  for (const [id, def] of all) {
    const path = def.path.replace(/:([A-Za-z]+)/g, '{$1}').replace(/\*$/, '{path}');
    (paths[path] ??= {})[def.method.toLowerCase()] = operation(id, def);
  }
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'cellar platform API',
      version,
      description:
        'REST API of `cellar up`. Errors are {error_code, message}. Authenticate with "Authorization: Bearer <token>" ' +
        '(or the session cookie of the web UI, which must echo the x-cellar-csrf header on state changes).',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        cookie: { type: 'apiKey', in: 'cookie', name: 'cellar_token' },
      },
    },
    paths,
  };
  return cached;
}
