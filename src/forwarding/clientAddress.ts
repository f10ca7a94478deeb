import type { AddressMatcher } from '../net/cidr';
import { isIpAddress } from '../net/ipAddress';

export interface ForwardedClient {
  /** Who the request is from, as hooks, `allow_from`, rate limits and `hash_key=ip` see it. */
  readonly clientAddress: string | undefined;
}

/**
 * The client behind `trusted_proxies`, as nginx's realip module finds it with
 * `real_ip_recursive on`: when the peer is trusted, the right-most X-Forwarded-For entry that is
 * not itself trusted (entries trimmed, empty ones skipped; the left-most when every entry is
 * trusted); otherwise the peer. An entry chosen that is no IP address (`unknown`, a port
 * attached) leaves the peer as the client. The header of an untrusted peer is never read for
 * the client. Upstream, the incoming chain gets this client appended, as nginx's
 * `$proxy_add_x_forwarded_for` does after realip (`src/forwarding/headers.ts`).
 */
export function forwardedClient(
  peerAddress: string | undefined,
  forwardedForHeader: string | readonly string[] | undefined,
  isTrusted: AddressMatcher,
): ForwardedClient {
  const chain =
    typeof forwardedForHeader === 'string' ? forwardedForHeader : forwardedForHeader?.join(', ');
  if (chain === undefined || peerAddress === undefined || !isTrusted(peerAddress)) {
    return { clientAddress: peerAddress };
  }
  let leftMost: string | undefined;
  let end = chain.length;
  while (end > 0) {
    const start = chain.lastIndexOf(',', end - 1) + 1;
    const entry = chain.slice(start, end).trim();
    end = start - 1;
    if (entry === '') continue;
    if (!isTrusted(entry)) {
      return { clientAddress: isIpAddress(entry) ? entry : peerAddress };
    }
    leftMost = entry;
  }
  return { clientAddress: leftMost ?? peerAddress };
}
