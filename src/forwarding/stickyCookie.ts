import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { PoolConfig } from '../config';

/**
 * The cookie value naming a server: a digest of its address as written in the config, so it is
 * the same on every replica and after restarts, and the same in `[http]` and `[websocket]` for
 * one address, without showing the address. It is opaque, not secret.
 */
export function stickyValue(address: string): string {
  return createHash('sha256').update(`rxproxy-sticky:${address}`).digest('hex').slice(0, 16);
}

/** The client came over TLS: a sticky cookie is then `Secure`. */
export function cameOverTls(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true;
}

/** Every value of cookie `name` in a Cookie header, in order (a browser may send several). */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (header === undefined || !header.includes(name)) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) {
      values.push(part.slice(separator + 1).trim());
    }
  }
  return values;
}

/** What a request's sticky cookie says, given which servers are in rotation now. */
export interface StickyChoice {
  /** The server the request goes to, unless it fails to connect; undefined: balance. */
  readonly server: string | undefined;
  /** The cookie value that named a server of the pool, in rotation or not. */
  readonly value: string | undefined;
}

const NO_CHOICE: StickyChoice = { server: undefined, value: undefined };

/**
 * A pool's sticky-cookie rules (`sticky = cookie`): which server a request's cookie pins it to,
 * and the Set-Cookie that pins a client to the server that served it.
 */
export class StickyCookie {
  readonly name: string;
  private readonly serverByValue = new Map<string, string>();
  private readonly valueByAddress = new Map<string, string>();
  private readonly attributes: string;

  constructor(pool: PoolConfig) {
    this.name = pool.stickyCookie;
    for (const server of pool.servers) {
      const value = stickyValue(server.address);
      this.serverByValue.set(value, server.name);
      this.valueByAddress.set(server.address, value);
    }
    const maxAge =
      pool.stickyCookieMaxAgeMs === undefined
        ? ''
        : `; Max-Age=${Math.floor(pool.stickyCookieMaxAgeMs / 1000)}`;
    this.attributes = `; Path=${pool.stickyCookiePath}${maxAge}; HttpOnly; SameSite=Lax`;
  }

  /**
   * The first cookie value naming a server of the pool decides. A server out of rotation, an
   * unknown (forged, stale) value or no cookie at all: the request is balanced.
   */
  choose(
    cookieHeader: string | undefined,
    isInRotation: (server: string) => boolean,
  ): StickyChoice {
    for (const value of cookieValues(cookieHeader, this.name)) {
      const server = this.serverByValue.get(value);
      if (server === undefined) continue;
      return { server: isInRotation(server) ? server : undefined, value };
    }
    return NO_CHOICE;
  }

  /**
   * The Set-Cookie header for a response served by `address`, or undefined when the request's
   * cookie already names it.
   */
  setCookie(
    address: string,
    requestValue: string | undefined,
    secure: boolean,
  ): string | undefined {
    const value = this.valueByAddress.get(address) ?? stickyValue(address);
    if (value === requestValue) return undefined;
    return `${this.name}=${value}${this.attributes}${secure ? '; Secure' : ''}`;
  }
}

/** The pool's sticky-cookie rules, or undefined with `sticky = none`. */
export function stickyCookieOf(pool: PoolConfig): StickyCookie | undefined {
  return pool.sticky === 'cookie' ? new StickyCookie(pool) : undefined;
}
