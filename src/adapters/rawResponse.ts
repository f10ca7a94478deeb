import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { renderAnswer, type ProxyAnswer } from '../forwarding/failures';
import { clientResponseHeaders } from '../forwarding/headers';

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

const MAX_ANSWER_BODY = 64 * 1024;

/**
 * Passes a backend's HTTP answer to an upgrade (401, 404, ...) to the client: status, headers and
 * up to 64 KiB of body, then closes both connections.
 */
export function relayAnswer(socket: Duplex, response: IncomingMessage): void {
  const chunks: Buffer[] = [];
  let size = 0;
  response.on('data', (chunk: Buffer) => {
    if (size < MAX_ANSWER_BODY) chunks.push(chunk);
    size += chunk.length;
  });
  response.on('error', () => socket.destroy());
  response.on('end', () => {
    const body = Buffer.concat(chunks).subarray(0, MAX_ANSWER_BODY);
    const rawHeaders = response.rawHeaders.map((value) => Buffer.from(value, 'latin1'));
    writeRawResponse(
      socket,
      response.statusCode ?? 502,
      response.statusMessage ?? '',
      clientResponseHeaders(rawHeaders),
      body,
    );
    response.socket.destroy();
  });
}
