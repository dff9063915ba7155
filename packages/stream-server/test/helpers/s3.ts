/**
 * A real S3-protocol server for tests: s3rver (in-process, temp folder) behind a proxy that verifies every
 * request's AWS Signature V4 — header-signed and presigned, including every signed header such as Content-Length
 * and Content-Type — the way S3 does, because s3rver itself accepts anonymous and tampered requests. It also
 * enforces `If-None-Match: *` on PUT (create-only), which s3rver ignores. Tests talk to `endpoint` (the proxy); `rawEndpoint` is s3rver itself.
 *
 * s3rver's ListObjectsV2 paging needs `NODE_OPTIONS=--openssl-legacy-provider` on Node 20 (the package's
 * `test` script sets it).
 *
 * @example
 * const s3 = await startTestS3();
 * const storage = createS3Storage({ ...s3, forcePathStyle: true });
 * // ...
 * await s3.stop();
 */
import { createCipheriv, createHash, timingSafeEqual } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest, QueryParameterBag } from '@smithy/types';

/** A request as the proxy saw it, handed to fault rules and kept in `requests`. */
export interface ProxiedRequest {
  method: string;
  /** Raw (still percent-encoded) path, e.g. `/test-bucket/videos/a.mp4`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

/**
 * What to do instead of forwarding: answer with an S3-style error status, or drop the connection without
 * answering (`'reset'`).
 */
export type Fault = { status: number; code?: string; message?: string } | 'reset';

/** Decides, per signature-verified request, whether to inject a fault. Return `undefined` to forward it. */
export type FaultRule = (request: ProxiedRequest) => Fault | undefined;

export interface ProxiedRequestRecord {
  method: string;
  path: string;
  search: string;
  outcome: 'forwarded' | 'refused' | 'fault';
}

export interface TestS3Options {
  /** Fault injection for requests that pass signature verification (can be replaced later with `setFaults`). */
  faults?: FaultRule;
  /** Bucket to create (default `test-bucket`). */
  bucket?: string;
}

export interface TestS3 {
  /** The verifying proxy: point clients here. */
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** s3rver itself, without signature checks (for setting up fixtures or proving the proxy matters). */
  rawEndpoint: string;
  /** Every request the proxy received, in order. */
  requests: ProxiedRequestRecord[];
  /** Replaces (or with no argument, removes) the fault rule. */
  setFaults(rule?: FaultRule): void;
  stop(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

const require = createRequire(import.meta.url);

/** s3rver only knows this key pair. */
const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';
const REGION = 'us-east-1';
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
const MAX_PRESIGN_SECONDS = 7 * 24 * 60 * 60;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

const CORS_XML = `<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <ExposeHeader>Content-Length</ExposeHeader>
    <ExposeHeader>Content-Range</ExposeHeader>
    <ExposeHeader>Accept-Ranges</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`;

type Verdict =
  { ok: true; payloadHash?: string } | { ok: false; status: number; code: string; message: string };

function refuse(code: string, message: string, status = 403): Verdict {
  return { ok: false, status, code, message };
}

/** Parses an ISO 8601 basic date (`20240101T120000Z`). */
function parseAmzDate(value: string | undefined): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

/** The query as SigV4 sees it: decoded names and values, repeated names as arrays, `?uploads` as `uploads=`. */
function parseQuery(search: string): QueryParameterBag {
  const query: QueryParameterBag = {};
  if (search === '') return query;
  for (const pair of search.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeURIComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decodeURIComponent(pair.slice(eq + 1));
    const existing = query[name];
    if (existing === undefined || existing === null) query[name] = value;
    else query[name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return query;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function equalHex(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function parseCredential(
  credential: string,
): { accessKeyId: string; date: string; region: string; service: string } | undefined {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return undefined;
  const [accessKeyId = '', date = '', region = '', service = ''] = parts;
  return { accessKeyId, date, region, service };
}

/**
 * Recomputes the request's SigV4 signature with `@smithy/signature-v4` and compares. Header auth returns the
 * declared payload hash so the caller can check the body against it.
 */
async function verifySignature(
  req: IncomingMessage,
  rawPath: string,
  search: string,
  signer: SignatureV4,
  now: number,
): Promise<Verdict> {
  const query = parseQuery(search);
  const authorization = headerValue(req.headers, 'authorization');
  const method = req.method ?? 'GET';

  if (authorization !== undefined && query['X-Amz-Algorithm'] !== undefined) {
    return refuse('InvalidArgument', 'Only one auth mechanism allowed', 400);
  }

  if (authorization !== undefined) {
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
        authorization.trim(),
      );
    if (!m) return refuse('AccessDenied', 'Unsupported or malformed Authorization header');
    const [, credentialText = '', signedHeaderList = '', signature = ''] = m;
    const credential = parseCredential(credentialText);
    if (!credential || credential.accessKeyId !== ACCESS_KEY_ID) {
      return refuse(
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
      );
    }
    if (credential.region !== REGION || credential.service !== 's3') {
      return refuse('AuthorizationHeaderMalformed', `Credential scope must be ${REGION}/s3`, 400);
    }
    const signingDate = parseAmzDate(headerValue(req.headers, 'x-amz-date'));
    if (!signingDate) return refuse('AccessDenied', 'Missing or malformed X-Amz-Date header');
    if (Math.abs(now - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) {
      return refuse(
        'RequestTimeTooSkewed',
        'The difference between the request time and the current time is too large.',
      );
    }
    const signedHeaders = signedHeaderList.split(';');
    if (!signedHeaders.includes('host')) return refuse('AccessDenied', 'The host header must be signed');
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      const value = headerValue(req.headers, name);
      if (value !== undefined) headers[name] = value;
    }
    const payloadHash = headerValue(req.headers, 'x-amz-content-sha256');
    if (payloadHash !== undefined) headers['x-amz-content-sha256'] = payloadHash;
    const toSign: HttpRequest = {
      method,
      protocol: 'http:',
      hostname: 'localhost',
      path: rawPath,
      query,
      headers,
    };
    const signed = await signer.sign(toSign, {
      signingDate,
      signableHeaders: new Set(signedHeaders),
      signingRegion: credential.region,
    });
    const expected =
      /Signature=([0-9a-f]{64})/.exec(String(signed.headers['authorization'] ?? ''))?.[1] ?? '';
    if (!equalHex(expected, signature)) {
      return refuse(
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
      );
    }
    return { ok: true, ...(payloadHash === undefined ? {} : { payloadHash }) };
  }

  if (query['X-Amz-Algorithm'] !== undefined) {
    const single = (name: string): string | undefined => {
      const v = query[name];
      return typeof v === 'string' ? v : undefined;
    };
    const algorithm = single('X-Amz-Algorithm');
    const credentialText = single('X-Amz-Credential');
    const dateText = single('X-Amz-Date');
    const expiresText = single('X-Amz-Expires');
    const signedHeaderList = single('X-Amz-SignedHeaders');
    const signature = single('X-Amz-Signature');
    if (
      algorithm !== 'AWS4-HMAC-SHA256' ||
      !credentialText ||
      !dateText ||
      !expiresText ||
      !signedHeaderList ||
      !signature
    ) {
      return refuse(
        'AccessDenied',
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, ' +
          'X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      );
    }
    const credential = parseCredential(credentialText);
    if (!credential || credential.accessKeyId !== ACCESS_KEY_ID) {
      return refuse(
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
      );
    }
    if (credential.region !== REGION || credential.service !== 's3') {
      return refuse('AuthorizationQueryParametersError', `Credential scope must be ${REGION}/s3`, 400);
    }
    const signingDate = parseAmzDate(dateText);
    const expiresIn = /^\d{1,7}$/.test(expiresText) ? Number(expiresText) : NaN;
    if (!signingDate || !(expiresIn >= 1 && expiresIn <= MAX_PRESIGN_SECONDS)) {
      return refuse('AuthorizationQueryParametersError', 'X-Amz-Date or X-Amz-Expires is malformed', 400);
    }
    const signedHeaders = signedHeaderList.split(';');
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      const value = headerValue(req.headers, name);
      if (value !== undefined) headers[name] = value;
    }
    // Presigned requests carry no payload hash; S3 uses the declared one or UNSIGNED-PAYLOAD.
    headers['x-amz-content-sha256'] = single('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
    const rest: QueryParameterBag = {};
    for (const [name, value] of Object.entries(query)) {
      if (
        ![
          'X-Amz-Algorithm',
          'X-Amz-Credential',
          'X-Amz-Date',
          'X-Amz-Expires',
          'X-Amz-SignedHeaders',
          'X-Amz-Signature',
        ].includes(name)
      ) {
        rest[name] = value;
      }
    }
    const toPresign: HttpRequest = {
      method,
      protocol: 'http:',
      hostname: 'localhost',
      path: rawPath,
      query: rest,
      headers,
    };
    const presigned = await signer.presign(toPresign, {
      signingDate,
      expiresIn,
      signingRegion: credential.region,
      signableHeaders: new Set(signedHeaders),
      unsignableHeaders: new Set(['x-amz-content-sha256']),
      unhoistableHeaders: new Set([...signedHeaders, 'x-amz-content-sha256']),
    });
    const expected = presigned.query?.['X-Amz-Signature'];
    if (typeof expected !== 'string' || !equalHex(expected, signature)) {
      return refuse(
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
      );
    }
    if (signingDate.getTime() - now > MAX_CLOCK_SKEW_MS) {
      return refuse('AccessDenied', 'Request is not valid yet');
    }
    if (now > signingDate.getTime() + expiresIn * 1000) return refuse('AccessDenied', 'Request has expired');
    return { ok: true };
  }

  return refuse('AccessDenied', 'Access Denied');
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
): void {
  req.resume();
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** HEADs an object on s3rver directly (no signature needed there). */
function upstreamObjectExists(port: number, rawPath: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const head = httpRequest({ host: '127.0.0.1', port, method: 'HEAD', path: rawPath }, (answer) => {
      answer.resume();
      resolve(answer.statusCode === 200);
    });
    head.on('error', reject);
    head.end();
  });
}

function defaultErrorCode(status: number): string {
  if (status === 503) return 'SlowDown';
  if (status >= 500) return 'InternalError';
  if (status === 403) return 'AccessDenied';
  return 'InvalidRequest';
}

/**
 * Starts s3rver (port 0, temp folder, silent) with one bucket that has a permissive CORS rule, and a
 * SigV4-verifying proxy in front of it on 127.0.0.1. `stop()` closes both and removes the folder.
 */
export async function startTestS3(options: TestS3Options = {}): Promise<TestS3> {
  try {
    createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
  } catch {
    // s3rver encrypts ListObjectsV2 continuation tokens with DES; without it paging answers 500.
    throw new Error(
      'startTestS3 needs NODE_OPTIONS=--openssl-legacy-provider (s3rver pages listings with DES)',
    );
  }
  const bucket = options.bucket ?? 'test-bucket';
  const directory = await mkdtemp(path.join(tmpdir(), 'test-s3-'));
  const S3rver = require('s3rver') as S3rverConstructor;
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket, configs: [CORS_XML] }],
  });
  const upstream = await s3rver.run();
  const rawEndpoint = `http://127.0.0.1:${upstream.port}`;

  const signer = new SignatureV4({
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
    region: REGION,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  let faults = options.faults;
  const requests: ProxiedRequestRecord[] = [];
  const abortedUploads = new Set<string>();

  /** Where s3rver keeps the parts of a multipart upload (its file system store's layout). */
  const uploadFolder = (uploadId: string) =>
    path.join(directory, bucket, '._S3rver_uploads', path.basename(uploadId));

  async function listParts(req: IncomingMessage, res: ServerResponse, rawPath: string, uploadId: string) {
    req.resume();
    let names: string[];
    try {
      names = await readdir(uploadFolder(uploadId));
    } catch {
      sendError(req, res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
      return;
    }
    const parts: string[] = [];
    for (const name of names.filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(a) - Number(b))) {
      const md5 = await readFile(path.join(uploadFolder(uploadId), `${name}.md5`), 'utf8').catch(
        () => undefined,
      );
      if (md5 === undefined) continue;
      const info = await stat(path.join(uploadFolder(uploadId), name));
      parts.push(
        `<Part><PartNumber>${name}</PartNumber><LastModified>${info.mtime.toISOString()}</LastModified>` +
          `<ETag>"${md5.trim()}"</ETag><Size>${info.size}</Size></Part>`,
      );
    }
    const key = escapeXml(decodeURIComponent(rawPath.split('/').slice(2).join('/')));
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult><Bucket>${escapeXml(bucket)}</Bucket>` +
      `<Key>${key}</Key><UploadId>${escapeXml(uploadId)}</UploadId><MaxParts>10000</MaxParts>` +
      `<IsTruncated>false</IsTruncated>${parts.join('')}</ListPartsResult>`;
    res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const search = q === -1 ? '' : url.slice(q + 1);
    const method = req.method ?? 'GET';
    const record: ProxiedRequestRecord = { method, path: rawPath, search, outcome: 'forwarded' };
    requests.push(record);

    let body: Buffer | undefined;
    // CORS preflights are never signed; S3 answers them from the bucket's CORS rules.
    if (method !== 'OPTIONS') {
      const verdict = await verifySignature(req, rawPath, search, signer, Date.now());
      if (!verdict.ok) {
        record.outcome = 'refused';
        sendError(req, res, verdict.status, verdict.code, verdict.message);
        return;
      }
      const payloadHash = verdict.payloadHash;
      if (payloadHash?.startsWith('STREAMING-')) {
        record.outcome = 'refused';
        sendError(
          req,
          res,
          400,
          'NotImplemented',
          'aws-chunked uploads are not supported here: set requestChecksumCalculation to WHEN_REQUIRED',
        );
        return;
      }
      if (payloadHash !== undefined && HEX_SHA256.test(payloadHash)) {
        body = await readBody(req);
        const actual = createHash('sha256').update(body).digest('hex');
        if (actual !== payloadHash) {
          record.outcome = 'refused';
          sendError(
            req,
            res,
            400,
            'XAmzContentSHA256Mismatch',
            'The provided x-amz-content-sha256 header does not match what was computed.',
          );
          return;
        }
      }
      // s3rver has no AbortMultipartUpload (it answers 405): emulate it here the way S3 behaves — the upload
      // id stops existing for part uploads, listing and completion.
      const uploadId = new URLSearchParams(search).get('uploadId');
      if (uploadId !== null && abortedUploads.has(uploadId)) {
        record.outcome = 'refused';
        sendError(req, res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
        return;
      }
      if (uploadId !== null && method === 'DELETE') {
        abortedUploads.add(uploadId);
        // Free the parts, as S3 does.
        await rm(uploadFolder(uploadId), { recursive: true, force: true });
        req.resume();
        res.writeHead(204).end();
        return;
      }
      // s3rver has no ListParts either (405): answer it from s3rver's own upload folder, in S3's words.
      if (uploadId !== null && method === 'GET') {
        await listParts(req, res, rawPath, uploadId);
        return;
      }
      // s3rver ignores conditional writes: enforce `If-None-Match: *` on PUT the way S3, R2 and MinIO do (412 when
      // the object exists), then forward the PUT without it.
      if (method === 'PUT' && uploadId === null && headerValue(req.headers, 'if-none-match') !== undefined) {
        if (headerValue(req.headers, 'if-none-match') !== '*') {
          record.outcome = 'refused';
          sendError(req, res, 501, 'NotImplemented', 'Only If-None-Match: * is supported on PUT');
          return;
        }
        if (await upstreamObjectExists(upstream.port, rawPath)) {
          record.outcome = 'refused';
          sendError(
            req,
            res,
            412,
            'PreconditionFailed',
            'At least one of the pre-conditions you specified did not hold',
          );
          return;
        }
        delete req.headers['if-none-match'];
      }
      const fault = faults?.({
        method,
        path: rawPath,
        query: new URLSearchParams(search),
        headers: req.headers,
      });
      if (fault !== undefined) {
        record.outcome = 'fault';
        if (fault === 'reset') {
          req.socket.destroy();
          return;
        }
        sendError(
          req,
          res,
          fault.status,
          fault.code ?? defaultErrorCode(fault.status),
          fault.message ?? 'Injected fault',
        );
        return;
      }
    }

    const forward = httpRequest({
      host: '127.0.0.1',
      port: upstream.port,
      method,
      path: url,
      headers: req.headers,
    });
    forward.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    forward.on('error', () => {
      if (!res.headersSent) sendError(req, res, 502, 'BadGateway', 'The S3 server did not answer');
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) forward.destroy();
    });
    if (body !== undefined) forward.end(body);
    else req.pipe(forward);
  }

  const proxy: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(req, res, 500, 'InternalError', `Proxy failure: ${String(error)}`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    proxy.once('error', reject);
    proxy.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  return {
    endpoint,
    region: REGION,
    bucket,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    rawEndpoint,
    requests,
    setFaults(rule) {
      faults = rule;
    },
    async stop() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await s3rver.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
