import type { ProxyAnswer, RenderedAnswer } from '../forwarding/failures';
import { INVALID_FIELD_VALUE, TOKEN } from '../net/httpSyntax';
import type { ProxyReply } from './types';

export const HOOK_FAILED: ProxyAnswer = {
  status: 500,
  error: 'hook failed',
  reason: 'hook_failed',
};
export const HOOK_TIMEOUT: ProxyAnswer = {
  status: 504,
  error: 'hook timeout',
  reason: 'hook_failed',
};
/** The rejected reason of a hook's reply that names none. */
export const HOOK_REPLY_REASON = 'hook_reply';
const REASON = /^[a-z][a-z0-9_]{0,39}$/;

/** A reply's `rxproxy_rejected_total` reason: its own when well-formed, else `hook_reply`. */
export function replyReason(reply: ProxyReply): string {
  return reply.reason !== undefined && REASON.test(reply.reason) ? reply.reason : HOOK_REPLY_REASON;
}

/** A reply as bytes, like the proxy's own answers. */
export type RenderedReply = RenderedAnswer;

function bodyOf(body: unknown): { bytes: Buffer; type: string | undefined } {
  if (body === undefined || body === null) return { bytes: Buffer.alloc(0), type: undefined };
  if (Buffer.isBuffer(body)) return { bytes: body, type: 'application/octet-stream' };
  if (typeof body === 'string')
    return { bytes: Buffer.from(body), type: 'text/plain; charset=utf-8' };
  return { bytes: Buffer.from(JSON.stringify(body)), type: 'application/json' };
}

/**
 * A hook's reply as bytes: objects as JSON, strings and Buffers as they are. Throws on a status
 * outside 200-599 (or 1xx) or a header that is not a valid field, so that a hook cannot split a
 * response; the caller answers such a reply as a failed hook.
 */
export function renderReply(reply: ProxyReply): RenderedReply {
  if (!Number.isInteger(reply.status) || reply.status < 200 || reply.status > 599) {
    throw new Error(`a reply's status must be 200-599, not ${String(reply.status)}`);
  }
  const { bytes, type } = bodyOf(reply.body);
  const headers: string[] = [];
  let typed = false;
  for (const [name, value] of Object.entries(reply.headers)) {
    if (!TOKEN.test(name) || INVALID_FIELD_VALUE.test(String(value))) {
      throw new Error(`a reply's header ${JSON.stringify(name)} is not a valid header field`);
    }
    const lower = name.toLowerCase();
    if (lower === 'content-length' || lower === 'transfer-encoding') continue;
    if (lower === 'content-type') typed = true;
    headers.push(name, value);
  }
  if (!typed && type !== undefined) headers.push('content-type', type);
  headers.push('content-length', String(bytes.length));
  return { status: reply.status, headers, body: bytes };
}
