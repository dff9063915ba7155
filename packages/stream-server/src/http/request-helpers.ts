import type { Context } from 'hono';
import type { z } from 'zod';

import { BadRequestError } from './errors.js';

/** Parses a JSON body against a schema; malformed JSON or a wrong shape is a 400 with a readable message. */
export async function parseJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  const text = await c.req.text();
  if (text.trim() === '') body = {};
  else {
    try {
      body = JSON.parse(text);
    } catch {
      throw new BadRequestError('The request body is not valid JSON.');
    }
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
    throw new BadRequestError(`Invalid request body: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** The bearer token of the request, or `undefined`. */
export function bearerToken(c: Context): string | undefined {
  const header = c.req.header('authorization');
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
