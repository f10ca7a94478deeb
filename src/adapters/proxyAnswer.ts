import type { ServerResponse } from 'node:http';
import { answerBody, type ProxyAnswer } from '../forwarding/failures';

/** Writes the proxy's own JSON answer, or cuts the response if the backend's has begun. */
export function answer(res: ServerResponse, reply: ProxyAnswer, closeConnection = false): void {
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = answerBody(reply);
  const headers = [
    'content-type',
    'application/json',
    'content-length',
    String(Buffer.byteLength(body)),
  ];
  if (reply.retryAfter !== undefined) headers.push('retry-after', String(reply.retryAfter));
  if (closeConnection) headers.push('connection', 'close');
  res.writeHead(reply.status, headers);
  res.end(body);
}
