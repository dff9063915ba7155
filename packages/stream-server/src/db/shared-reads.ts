/**
 * Lets requests that arrive together share one read per key, without ever answering from a read that started
 * before the request arrived: a request that finds a read of its key running waits for the next one, which starts
 * when the running one ends and serves every request that arrived meanwhile. So a hundred viewers opening the same
 * video at once cost a query per query-time rather than a hundred queries, and no one sees a row older than their
 * own request (nothing is cached: once no read of a key runs, the key is forgotten).
 *
 * @example
 * const readVideo = sharedReads((id: string) => findVideoForStream(db, id));
 * const [a, b] = await Promise.all([readVideo(id), readVideo(id)]); // one query
 */
export function sharedReads<K, V>(read: (key: K) => Promise<V>): (key: K) => Promise<V> {
  const running = new Map<K, Promise<V>>();
  const next = new Map<K, Promise<V>>();

  const start = (key: K): Promise<V> => {
    const reading = read(key).finally(() => {
      if (running.get(key) === reading) running.delete(key);
    });
    running.set(key, reading);
    return reading;
  };

  return (key) => {
    const queued = next.get(key);
    if (queued) return queued;
    const current = running.get(key);
    if (!current) return start(key);
    const ended = current.then(
      () => undefined,
      () => undefined,
    );
    const following = ended.then(() => {
      next.delete(key);
      return start(key);
    });
    next.set(key, following);
    return following;
  };
}
