import type { Duplex } from 'node:stream';
import { renderAnswer, type ProxyAnswer } from '../forwarding/failures';

/**
 * Writes a whole HTTP/1.1 response on a raw socket (one the HTTP server no longer manages: a
 * rejected request or upgrade) and closes it.
 */
export function writeRawResponse(
  socket: Duplex,
  status: number,
  statusText: string,
  headers: readonly string[],
  body: Buffer,
): void {
  if (socket.destroyed) return;
  let head = `HTTP/1.1 ${status} ${statusText}\r\n`;
  for (let i = 0; i < headers.length; i += 2) {
    const name = (headers[i] ?? '').toLowerCase();
    if (name === 'content-length' || name === 'connection') continue;
    head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  }
  head += `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
}

/** The proxy's own JSON answer on a raw socket, then the connection closes. */
export function rejectRaw(socket: Duplex, answer: ProxyAnswer): void {
  const { status, headers, body } = renderAnswer(answer);
  writeRawResponse(socket, status, answer.error, headers, body);
}
