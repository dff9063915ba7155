import { MAX_WATCH_IDS, mintUserToken } from '../../auth/user-tokens.js';
import { loadConfig } from '../../config/load-config.js';
import { loadOrCreateSecrets } from '../../config/secrets.js';
import { isVideoId } from '../../videos/video-json.js';
import { UsageError, type CliCommand } from '../command.js';

/** Seconds in `3600`, `30m`, `12h` or `7d`. */
export function parseTtl(value: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!match) throw new UsageError(`--ttl must look like 3600, 30m, 12h or 7d (got "${value}")`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  if (seconds <= 0 || seconds > 366 * 86400)
    throw new UsageError('--ttl must be between 1 second and 366 days');
  return seconds;
}

/** The video ids of `--watch <id>[,<id>…]`: UUIDs, at most MAX_WATCH_IDS. */
export function parseWatchList(value: string | undefined): string[] {
  const ids = (value ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  for (const id of ids) {
    if (!isVideoId(id.toLowerCase()))
      throw new UsageError(`--watch takes video ids (UUIDs); "${id}" is not one`);
  }
  if (ids.length > MAX_WATCH_IDS) throw new UsageError(`--watch takes at most ${MAX_WATCH_IDS} video ids`);
  return ids;
}

/**
 * `token`: mints a user token with the server's own secret (JWT_SECRET, or the one in DATA_DIR/secrets.json, made
 * there on first use as the server itself would).
 */
export const tokenCommand: CliCommand = {
  name: 'token',
  summary: 'Print a user token the server accepts',
  details:
    "It is signed with JWT_SECRET, or the secret in DATA_DIR/secrets.json that the server shares (run it with the\nserver's DATA_DIR).",
  options: {
    sub: { type: 'string', value: '<user-id>', description: 'The user the token is for (required)' },
    ttl: { type: 'string', value: '<seconds|30m|12h|7d>', description: 'How long it is valid (default 12h)' },
    watch: {
      type: 'string',
      value: '<video-id>[,<video-id>…]',
      description: 'Also lets it play these videos of other owners (at most 100)',
    },
  },
  async run({ values }, { env, stdout }) {
    const sub = values['sub'] as string | undefined;
    if (!sub) throw new UsageError('token needs --sub <user-id>');
    const ttlSeconds = parseTtl((values['ttl'] as string | undefined) ?? '12h');
    const watch = parseWatchList(values['watch'] as string | undefined);
    const config = loadConfig(env);
    if (config.auth.jwksUrl) {
      throw new UsageError(
        'this server verifies RS256 tokens from AUTH_JWKS_URL: mint tokens with your identity provider',
      );
    }
    const secrets = await loadOrCreateSecrets(config.dataDir, { jwtSecret: config.auth.jwtSecret });
    const jwt = await mintUserToken({
      secret: secrets.jwtSecret,
      sub,
      ttlSeconds,
      watch,
      issuer: config.auth.issuer,
      audience: config.auth.audience,
    });
    stdout.write(`${jwt}\n`);
    return 0;
  },
};
