import { Hono } from 'hono';
import { z } from 'zod';

import { serviceKeyMatches } from '../../auth/service-key.js';
import type { Db } from '../../db/create-database.js';
import type { StreamService } from '../../videos/stream-service.js';
import { toVideoJson } from '../../videos/video-json.js';
import type { VideoRegistry } from '../../videos/video-registry.js';
import { listVideosByOwner } from '../../videos/videos-repository.js';
import { BadRequestError, UnauthorizedError } from '../errors.js';
import { bearerToken, parseJsonBody } from '../request-helpers.js';

const registerBody = z.object({
  owner_id: z.string().min(1).max(128),
  title: z.string().max(500).optional(),
  content_type: z
    .string()
    .regex(/^[a-z]+\/[a-z0-9.+-]+$/i, 'must be a MIME type')
    .optional(),
  size_bytes: z.number().int().positive().max(5 * 1024 ** 4).optional(),
});

const completeBody = z.object({
  parts: z
    .array(z.object({ part_number: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(200) }))
    .max(10_000)
    .optional(),
});

const importBody = z.object({
  owner_id: z.string().min(1).max(128),
  source_key: z.string().min(1).max(1024),
  title: z.string().max(500).optional(),
});

/**
 * The management API a trusted backend calls with the service API key (never a user token): register and upload,
 * import existing objects, delete, pre-generate and delete HLS, list a user's videos.
 */
export function createManageRoutes(deps: {
  db: Db;
  serviceApiKey: string;
  registry: VideoRegistry;
  streams: StreamService;
}) {
  const app = new Hono();

  app.use('*', async (c, next) => {
    const token = bearerToken(c);
    if (!token || !serviceKeyMatches(token, deps.serviceApiKey)) {
      throw new UnauthorizedError('The management API needs the service API key as a bearer token.');
    }
    await next();
  });

  app.get('/videos', async (c) => {
    const ownerId = c.req.query('owner_id');
    if (!ownerId) throw new BadRequestError('owner_id is required.');
    const videos = await listVideosByOwner(deps.db, ownerId);
    return c.json({ videos: videos.map(toVideoJson) });
  });

  app.post('/videos', async (c) => {
    const body = await parseJsonBody(c, registerBody);
    const { video, upload } = await deps.registry.register({
      ownerId: body.owner_id,
      title: body.title,
      contentType: body.content_type,
      sizeBytes: body.size_bytes,
    });
    return c.json({ video: toVideoJson(video), upload }, 201);
  });

  app.post('/videos/import', async (c) => {
    const body = await parseJsonBody(c, importBody);
    const video = await deps.registry.importExisting({
      ownerId: body.owner_id,
      sourceKey: body.source_key,
      title: body.title,
    });
    return c.json(toVideoJson(video), 201);
  });

  app.post('/videos/:id/upload/complete', async (c) => {
    const body = await parseJsonBody(c, completeBody);
    const video = await deps.registry.completeUpload(
      c.req.param('id'),
      body.parts?.map((p) => ({ partNumber: p.part_number, etag: p.etag })),
    );
    return c.json(toVideoJson(video));
  });

  app.get('/videos/:id', async (c) => c.json(toVideoJson(await deps.registry.get(c.req.param('id')))));

  app.delete('/videos/:id', async (c) => {
    await deps.registry.remove(c.req.param('id'));
    return c.body(null, 204);
  });

  const pregenerate = async (id: string) => {
    const answer = await deps.streams.pregenerate(await deps.registry.get(id));
    return answer;
  };

  app.post('/videos/:id/hls', async (c) => {
    const answer = await pregenerate(c.req.param('id'));
    return c.json(answer, answer.status === 'generating' ? 202 : 200);
  });

  app.post('/videos/:id/hls/retry', async (c) => {
    const answer = await pregenerate(c.req.param('id'));
    return c.json(answer, answer.status === 'generating' ? 202 : 200);
  });

  app.delete('/videos/:id/hls', async (c) => {
    await deps.registry.removeHls(c.req.param('id'));
    return c.body(null, 204);
  });

  return app;
}
