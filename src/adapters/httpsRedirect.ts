import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BAD_REQUEST } from '../forwarding/failures';
import { answer } from './proxyAnswer';

/** The host of a Host header without its port (`[::1]:80` → `[::1]`); undefined when empty. */
export function hostWithoutPort(host: string | undefined): string | undefined {
  const value = host?.trim();
  if (!value) return undefined;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end > 0 ? value.slice(0, end + 1) : undefined;
  }
  const colon = value.indexOf(':');
  const name = colon === -1 ? value : value.slice(0, colon);
  return name === '' ? undefined : name;
}

/** `https://HOST[:PORT]/path?query` for a request that came in over plain HTTP. */
export function httpsLocation(host: string, tlsPort: number, url: string): string {
  const port = tlsPort === 443 ? '' : `:${tlsPort}`;
  return `https://${host}${port}${url.startsWith('/') ? url : `/${url}`}`;
}

/**
 * The plain listener of `redirect_http_port`: every request gets 308 to the same path and query
 * over HTTPS on the front door's port; one without a Host header gets the JSON 400.
 */
export function createHttpsRedirect(tlsPort: () => number): Server {
  // Node's own 400 for a missing Host is bare: this listener answers it with the JSON one.
  const server = createServer(
    { requireHostHeader: false },
    (req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      const host = hostWithoutPort(req.headers.host);
      if (host === undefined) {
        answer(res, BAD_REQUEST);
        return;
      }
      res.writeHead(308, { location: httpsLocation(host, tlsPort(), req.url ?? '/') });
      res.end();
    },
  );
  server.on('clientError', (_error, socket) => {
    if (socket.writable) {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    } else socket.destroy();
  });
  return server;
}
