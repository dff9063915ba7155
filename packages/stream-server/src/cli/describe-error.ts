/**
 * A start-up failure in one line: its message and its code (`ENOSPC`, `EACCES`, `ECONNREFUSED`…). Things thrown
 * that are not `Error`s (a library's plain objects) are shown by their fields, never as `[object Object]`.
 */
export function describeError(error: unknown): string {
  const { message, code, errno, name } = (typeof error === 'object' && error !== null ? error : {}) as {
    message?: unknown;
    code?: unknown;
    errno?: unknown;
    name?: unknown;
  };
  const tag = typeof code === 'string' || typeof code === 'number' ? String(code) : undefined;
  if (typeof message === 'string' && message !== '') {
    return tag && !message.includes(tag) ? `${message} (${tag})` : message;
  }
  if (typeof error === 'object' && error !== null) {
    const fields = [name, tag, errno === undefined ? undefined : `errno ${String(errno)}`].filter(Boolean);
    let json: string | undefined;
    try {
      json = JSON.stringify(error);
    } catch {
      json = undefined;
    }
    return fields.length > 0 ? fields.join(', ') : (json ?? 'unknown error');
  }
  return String(error);
}
