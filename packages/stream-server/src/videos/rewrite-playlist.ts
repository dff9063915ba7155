/**
 * Rewrites every URI of an HLS playlist (segment lines and `URI="…"` attributes) with `resolve`, keeping
 * everything else byte for byte. Used to turn relative segment names into absolute presigned URLs, which is what
 * makes a private bucket playable: a player resolves relative URIs against the playlist URL, without its signature.
 */
export async function rewritePlaylist(
  text: string,
  resolve: (uri: string) => Promise<string>,
): Promise<string> {
  const lines = text.split(/\r?\n/);
  const jobs: Array<Promise<void>> = [];
  lines.forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '') return;
    if (!trimmed.startsWith('#')) {
      jobs.push(resolve(trimmed).then((uri) => void (lines[index] = uri)));
      return;
    }
    if (trimmed.includes('URI="')) {
      const parts: Array<Promise<string>> = [];
      const pieces = trimmed.split(/(URI=")([^"]*)(")/);
      // split with capture groups: [before, 'URI="', uri, '"', after, ...]
      for (let i = 0; i < pieces.length; i += 1) {
        const piece = pieces[i] ?? '';
        parts.push(i % 4 === 2 ? resolve(piece) : Promise.resolve(piece));
      }
      jobs.push(Promise.all(parts).then((resolved) => void (lines[index] = resolved.join(''))));
    }
  });
  await Promise.all(jobs);
  return lines.join('\n');
}

/** A relative segment name we produced ourselves: no scheme, no path, no traversal. */
export function isPlainSegmentName(uri: string): boolean {
  return /^[A-Za-z0-9._-]+$/.test(uri) && !uri.startsWith('.');
}
