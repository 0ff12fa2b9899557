// Everything between `scheme://` and the last `@` before the host: user, password or token.
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i;

/**
 * The URL with its userinfo (`user:password@`) replaced by `***@`, for logs, errors and
 * dead-letter envelopes. Works on text that does not parse as a URL too.
 */
export function redactUrl(url: string): string {
  return url.replace(USERINFO, '$1***@');
}
