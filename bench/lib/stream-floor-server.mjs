// The floor `/stream` is measured against: a bare Hono route on the same PostgreSQL that verifies the same HS256
// bearer token with jose, reads the video row with one `pg` query and signs a playback token — what any
// implementation of the contract must do, and nothing else. Started by bench/lib/hot-path.mjs in the same run.
// Env: DATABASE_URL, JWT_SECRET, PLAYBACK_SECRET, PORT. Prints `floor listening on <url>`.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { jwtVerify, SignJWT } from 'jose';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const userKey = new TextEncoder().encode(process.env.JWT_SECRET);
const playbackKey = new TextEncoder().encode(process.env.PLAYBACK_SECRET);
const app = new Hono();

app.get('/api/videos/:id/stream', async (c) => {
  const token = (c.req.header('authorization') ?? '').replace(/^Bearer /, '');
  let sub;
  try {
    ({
      payload: { sub },
    } = await jwtVerify(token, userKey, { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] }));
  } catch {
    return c.json({ error: { code: 'unauthorized' } }, 401);
  }
  const { rows } = await pool.query('select id, hls_status from videos where id = $1 and owner_id = $2', [
    c.req.param('id'),
    sub,
  ]);
  const video = rows[0];
  if (!video) return c.json({ error: { code: 'not_found' } }, 404);
  const now = Math.floor(Date.now() / 1000);
  const playback = await new SignJWT({ vid: video.id })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setAudience('notetaker-playback')
    .setIssuedAt(now)
    .setExpirationTime(now + 21600)
    .sign(playbackKey);
  c.header('Cache-Control', 'no-store');
  return c.json({
    status: video.hls_status,
    hls_url: `http://${c.req.header('host')}/api/videos/${video.id}/playlist.m3u8?token=${playback}`,
    expires_at: new Date((now + 21600) * 1000).toISOString(),
  });
});

serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`floor listening on http://127.0.0.1:${info.port}\n`);
});
