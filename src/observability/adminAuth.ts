import { createHash, timingSafeEqual } from 'node:crypto';

/** The cookie a browser gets from `/?token=...`, standing in for the Authorization header. */
export const ADMIN_COOKIE = 'rxproxy_admin';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Checks admin credentials in constant time; the cookie holds a digest, not the token. */
export class AdminAuth {
  private readonly expected: Buffer;
  /** The cookie's value: a digest of the token, so the cookie is no bearer token elsewhere. */
  readonly cookieValue: string;

  constructor(token: string) {
    this.expected = digest(token);
    this.cookieValue = digest(`rxproxy-admin-cookie:${token}`).toString('hex');
  }

  /** Whether `token` is the configured one. */
  matches(token: string | undefined): boolean {
    return token !== undefined && timingSafeEqual(digest(token), this.expected);
  }

  /** Whether a request's Authorization header or cookie carries the token. */
  allows(authorization: string | undefined, cookie: string | undefined): boolean {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (bearer !== undefined) return this.matches(bearer);
    const sent = cookieValue(cookie, ADMIN_COOKIE);
    return sent !== undefined && timingSafeEqual(digest(sent), digest(this.cookieValue));
  }

  /** The Set-Cookie header value for a browser that proved it knows the token. */
  setCookie(secure: boolean): string {
    const flags = `Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
    return `${ADMIN_COOKIE}=${this.cookieValue}; ${flags}`;
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) {
      return part.slice(separator + 1).trim();
    }
  }
  return undefined;
}
