import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A headless system Chromium in a throwaway profile, with the flags every test browser starts with. */
export { launchChromium } from '@notetaker/test-support/chromium';

/** Serves fixed files on another origin than the API's (the host app, in a real embedding). */
export async function serveFiles(files: Record<string, { type: string; body: string | Buffer }>) {
  const server = http.createServer((req, res) => {
    const file = files[new URL(req.url ?? '/', 'http://x').pathname];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.type }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
