import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchChromium } from './helpers/chromium.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

interface OpenApiOperation {
  responses: Record<string, { headers?: Record<string, { $ref?: string }> }>;
  parameters?: Array<{ $ref?: string; name?: string; in?: string }>;
  summary?: string;
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    schemas: Record<string, unknown>;
    headers: Record<string, { description: string }>;
    parameters: Record<string, { name: string; in: string }>;
  };
}

/** Hono's `/:id` → OpenAPI's `/{id}`. */
const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}');

// Routes that are not part of the API: the web page, its assets and the local storage's signed objects.
const NOT_API = [/^\/$/, /^\/assets\//, /^\/storage\//];

describe('the OpenAPI document', () => {
  let server: TestServer;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    server = await startTestServer('embedded');
    const response = await fetch(`${server.url}/openapi.json`);
    expect(response.status).toBe(200);
    doc = (await response.json()) as OpenApiDocument;
  });

  afterAll(async () => {
    await server?.close();
  });

  it('is OpenAPI 3.1 with the shared schemas', () => {
    expect(doc.openapi).toBe('3.1.0');
    for (const name of [
      'Video',
      'VideoList',
      'StreamReady',
      'StreamGenerating',
      'StreamFailed',
      'Error',
      'UploadInstructions',
    ]) {
      expect(doc.components.schemas, name).toHaveProperty(name);
    }
  });

  it('describes every route the app answers, and nothing it does not', () => {
    const routes = new Set<string>();
    for (const route of server.app!.routes) {
      if (route.method === 'ALL' || NOT_API.some((re) => re.test(route.path))) continue;
      routes.add(`${route.method.toLowerCase()} ${toOpenApiPath(route.path)}`);
    }
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) documented.add(`${method} ${path}`);
    }
    expect([...documented].sort()).toEqual([...routes].sort());
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        expect(op.summary, `${method} ${path}`).toEqual(expect.any(String));
        expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0);
      }
    }
  });

  it('documents the /stream contract answers', () => {
    const stream = doc.paths['/api/videos/{id}/stream']!['get']!;
    expect(Object.keys(stream.responses).sort()).toEqual(['200', '202', '401', '404', '409', '429']);
  });

  it('documents X-Request-Id on every route: taken as a request header and answered on every response', async () => {
    expect(doc.components.headers['X-Request-Id']!.description).toMatch(/logs/);
    expect(doc.components.parameters['RequestId']).toMatchObject({ name: 'X-Request-Id', in: 'header' });
    let operations = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        operations += 1;
        expect(op.parameters, `${method} ${path}`).toContainEqual({
          $ref: '#/components/parameters/RequestId',
        });
        for (const [status, response] of Object.entries(op.responses)) {
          expect(response.headers?.['X-Request-Id'], `${method} ${path} ${status}`).toEqual({
            $ref: '#/components/headers/X-Request-Id',
          });
        }
      }
    }
    expect(operations).toBeGreaterThan(40);
    // What the document says is what the service does, on a documented route and on an error.
    const video = await fetch(`${server.url}/api/manage/videos`, {
      headers: { 'x-request-id': 'host-req-1' },
    });
    expect(video.status).toBe(401);
    expect(video.headers.get('x-request-id')).toBe('host-req-1');
  });

  it('describes PATCH of a video and the list filters in both APIs', () => {
    for (const path of ['/api/videos/{id}', '/api/manage/videos/{id}']) {
      expect(doc.paths[path]!['patch']!.responses).toHaveProperty('409');
    }
    for (const path of ['/api/videos', '/api/manage/videos']) {
      const names = doc.paths[path]!['get']!.parameters!.map((p) => p.name);
      expect(names).toEqual(expect.arrayContaining(['limit', 'cursor', 'external_id', 'q']));
    }
    expect(doc.components.schemas).toHaveProperty('VideoPatch');
    expect(JSON.stringify(doc.components.schemas['Video'])).toContain('external_id');
  });

  it('renders a readable reference page from the document', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/api/reference`);
      await page.getByText('/api/videos/{id}/stream').first().waitFor();
      await page.getByText('Every route takes and answers').waitFor();
      expect(await page.getByText('undefined').count()).toBe(0);
      expect(await page.locator('section').count()).toBeGreaterThanOrEqual(15);
    } finally {
      await browser.close();
    }
  });
});
