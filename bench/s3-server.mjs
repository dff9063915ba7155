// Runs the S3-protocol test server (s3rver behind the SigV4-verifying proxy the tests use) in its own process, so
// its CPU and memory stay out of the measured server. Start with:
//   NODE_OPTIONS=--openssl-legacy-provider node --import tsx bench/s3-server.mjs
// Prints one JSON line with the connection settings, then serves until SIGTERM/SIGINT.
const { startTestS3 } = await import('../packages/stream-server/test/helpers/s3.ts');

const s3 = await startTestS3();
process.stdout.write(
  `${JSON.stringify({
    endpoint: s3.endpoint,
    region: s3.region,
    bucket: s3.bucket,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
  })}\n`,
);
// The proxy keeps a record of every request for tests; a benchmark does not need them.
setInterval(() => s3.requests.splice(0), 5_000).unref();

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  s3.stop().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
