import type { Hono } from 'hono';
import { describeRoute, generateSpecs, resolver } from 'hono-openapi';
import type { z } from 'zod';

import { ErrorBody } from './api-schemas.js';
import { REQUEST_ID_HEADER } from './request-id.js';

type Responses = Record<
  number,
  { description: string; schema?: z.ZodType; content?: 'json' | 'text' | 'vtt' | 'none' }
>;

const ERRORS: Record<number, string> = {
  400: 'Malformed request',
  401: 'Missing or invalid credentials',
  403: 'Not allowed',
  404: 'No such video (or not yours)',
  409: 'Conflicting state',
  413: 'The JSON body is over MAX_JSON_BODY_BYTES',
  415: 'The body is not declared as application/json',
  422: 'The uploaded file is not a video (not_a_video)',
  429: 'Too many requests from this address; see Retry-After',
};

/** The query parameters of both video lists (the management list adds `owner_id`). */
export const VIDEO_LIST_PARAMETERS = [
  { name: 'limit', in: 'query', description: 'Videos per page, 1–200 (default 50)' },
  { name: 'cursor', in: 'query', description: "The previous page's next_cursor (opaque)" },
  {
    name: 'external_id',
    in: 'query',
    description: 'Only the videos with this external id (for one owner: at most one)',
  },
  {
    name: 'q',
    in: 'query',
    description: 'Only titles that contain this text, ignoring case (1–200 characters; blank: no search)',
  },
] as const;

/**
 * Describes one route for the generated OpenAPI document: `describe({ summary, tags, body, responses, errors })`
 * placed before the handler. Error responses all share the `Error` schema.
 */
export function describe(spec: {
  summary: string;
  description?: string;
  tags: readonly string[];
  security?: 'user' | 'service' | 'none';
  body?: z.ZodType;
  responses: Responses;
  errors?: number[];
  parameters?: Array<{
    name: string;
    in: 'query' | 'path' | 'header';
    required?: boolean;
    description: string;
  }>;
}) {
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(spec.responses)) {
    responses[status] = {
      description: r.description,
      ...(r.schema ? { content: { 'application/json': { schema: resolver(r.schema) } } } : {}),
      ...(r.content === 'text'
        ? { content: { 'application/vnd.apple.mpegurl': { schema: { type: 'string' } } } }
        : {}),
      ...(r.content === 'vtt' ? { content: { 'text/vtt': { schema: { type: 'string' } } } } : {}),
    };
  }
  // Every JSON body is limited (413), and every route that can answer 401 counts failed authentications (429).
  const errors = new Set(spec.errors ?? []);
  if (spec.body) errors.add(413);
  if (errors.has(401)) errors.add(429);
  for (const status of [...errors].sort()) {
    responses[String(status)] = {
      description: ERRORS[status] ?? 'Error',
      content: { 'application/json': { schema: resolver(ErrorBody) } },
    };
  }
  return describeRoute({
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [...spec.tags],
    security:
      spec.security === 'none' ? [] : [{ [spec.security === 'service' ? 'serviceKey' : 'userToken']: [] }],
    ...(spec.parameters ? { parameters: spec.parameters } : {}),
    ...(spec.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: resolver(spec.body) } } } }
      : {}),
    responses: responses as never,
  });
}

/** Generates the OpenAPI 3.1 document from the app's own route definitions. */
export async function generateOpenApi(app: Hono, version: string) {
  const spec = await generateSpecs(app, {
    documentation: {
      openapi: '3.1.0',
      info: {
        title: 'Notetaker Stream API',
        version,
        description:
          "Video registry, on-demand HLS and private playback. User routes take the host app's user token; management routes take the service API key.",
      },
      components: {
        securitySchemes: {
          userToken: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: "The host app's user token (sub = user id)",
          },
          serviceKey: { type: 'http', scheme: 'bearer', description: 'SERVICE_API_KEY' },
        },
      },
    },
    // The web page, its assets and local-storage objects are not API; paths with dots (playlist.m3u8) are.
    excludeStaticFile: false,
    exclude: [/^\/storage\//, /^\/assets\//, /^\/$/],
  });
  return withRequestIds(spec as unknown as OpenApiShape);
}

/** The parts of the document {@link withRequestIds} touches. */
interface OpenApiShape {
  components?: Record<string, Record<string, unknown>>;
  paths?: Record<
    string,
    Record<
      string,
      { parameters?: unknown[]; responses?: Record<string, { headers?: Record<string, unknown> }> }
    >
  >;
}

const OPERATION_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/**
 * Documents what the `requestIds()` middleware does on every route, so no route has to say it: each operation
 * takes an optional `X-Request-Id` header and each of its responses carries one (the caller's, echoed, or a new one).
 */
export function withRequestIds<D extends OpenApiShape>(spec: D): D {
  const components = (spec.components ??= {});
  (components['headers'] ??= {})[REQUEST_ID_HEADER] = {
    description:
      "This request's id: the caller's X-Request-Id when it is 1–128 characters of letters, digits and . _ : @ / + = -, " +
      'otherwise a new UUID. The service logs it with the request; quote it when reporting a problem.',
    schema: { type: 'string' },
  };
  (components['parameters'] ??= {})['RequestId'] = {
    name: REQUEST_ID_HEADER,
    in: 'header',
    required: false,
    description: 'Your id for this request, echoed in the answer and written to the logs (else one is made)',
    schema: { type: 'string', pattern: '^[A-Za-z0-9._:@/+=-]{1,128}$' },
  };
  for (const item of Object.values(spec.paths ?? {})) {
    for (const [method, operation] of Object.entries(item)) {
      if (!OPERATION_METHODS.has(method)) continue;
      operation.parameters = [...(operation.parameters ?? []), { $ref: '#/components/parameters/RequestId' }];
      for (const response of Object.values(operation.responses ?? {})) {
        response.headers = {
          ...response.headers,
          [REQUEST_ID_HEADER]: { $ref: `#/components/headers/${REQUEST_ID_HEADER}` },
        };
      }
    }
  }
  return spec;
}
