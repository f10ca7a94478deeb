import type { ServerResponse } from 'node:http';
import { renderAnswer, type ProxyAnswer } from '../forwarding/failures';

/** Writes the proxy's own JSON answer, or cuts the response if the backend's has begun. */
export function answer(res: ServerResponse, reply: ProxyAnswer, closeConnection = false): void {
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, headers, body } = renderAnswer(reply);
  if (closeConnection) headers.push('connection', 'close');
  res.writeHead(status, headers);
  res.end(body);
}
