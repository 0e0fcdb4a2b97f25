// Who may talk to `textdream serve`. On a loopback address without a token: any local client whose Host header
// names the loopback (which defeats DNS rebinding). With a token (required for any other address): a request
// must carry it as `Authorization: Bearer <token>` or in the `textdream_token` cookie, which a browser gets by
// opening the printed URL once (`/?token=…` sets the cookie and redirects to the clean URL).
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

export const TOKEN_COOKIE = 'textdream_token';
export const MIN_TOKEN_LENGTH = 8;

export class ServeConfigError extends Error {
  override name = 'ServeConfigError';
}

/** 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** The rule for binding: loopback needs nothing; anything else (0.0.0.0 included) needs a token. */
export function checkBinding(host: string, token: string | undefined): void {
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    throw new ServeConfigError(`--token must be at least ${MIN_TOKEN_LENGTH} characters (use a long random string, e.g. \`openssl rand -hex 16\`)`);
  }
  if (!isLoopbackHost(host) && token === undefined) {
    throw new ServeConfigError(
      `refusing to listen on ${host} without a token: anyone who can reach it could run the engine. ` +
        'Pass --token <secret> (or TEXTDREAM_TOKEN), or keep --host 127.0.0.1',
    );
  }
}

function sameSecret(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function bearer(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

export type Verdict = { ok: true } | { ok: false; status: 401 | 403; message: string };

/** Token (when set) from the header or the cookie; without a token, a loopback Host header. */
export function authorize(req: IncomingMessage, token: string | undefined): Verdict {
  if (token === undefined) {
    const host = hostName(req.headers.host ?? '');
    if (!isLoopbackHost(host)) return { ok: false, status: 403, message: `Host "${req.headers.host ?? ''}" is not a loopback name; open http://127.0.0.1:<port>/` };
    return { ok: true };
  }
  const given = bearer(req) ?? cookieValue(req, TOKEN_COOKIE);
  if (given !== undefined && sameSecret(given, token)) return { ok: true };
  return { ok: false, status: 401, message: 'a token is required: open the URL `textdream serve` printed (it carries ?token=…) or send Authorization: Bearer <token>' };
}

/** A cross-site page may not drive the API: an Origin header, when sent, must match the Host. */
export function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** `host:port` or `[v6]:port` → the host part. */
export function hostName(hostHeader: string): string {
  const v6 = /^\[([^\]]+)\]/.exec(hostHeader);
  if (v6) return v6[1];
  return hostHeader.replace(/:\d+$/, '');
}

export function tokenMatches(given: string, token: string): boolean {
  return sameSecret(given, token);
}
