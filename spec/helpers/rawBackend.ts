import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** What a raw backend does on one connection each time a request's head has arrived. */
export type RawBehaviour = (socket: Socket, head: string) => void;

export interface RawBackend {
  readonly port: number;
  /** `127.0.0.1:port`, as a config file names it. */
  readonly address: string;
  /** Request heads received (up to the blank line), on every connection. */
  readonly requests: string[];
  /** TCP connections open now. */
  readonly open: () => number;
  close(): Promise<void>;
}

const HEAD_END = '\r\n\r\n';
/** Larger heads are not requests this backend expects; it stops buffering. */
const MAX_HEAD_BYTES = 64 * 1024;

/**
 * A TCP server on a loopback ephemeral port that speaks whatever `behaviour` writes: garbage,
 * broken HTTP, or nothing. Requests are assumed to have no body (the tests send GETs).
 */
export async function startRawBackend(behaviour: RawBehaviour): Promise<RawBackend> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      if (pending.length > MAX_HEAD_BYTES) {
        socket.destroy();
        return;
      }
      for (let end = pending.indexOf(HEAD_END); end !== -1; end = pending.indexOf(HEAD_END)) {
        const head = pending.slice(0, end);
        pending = pending.slice(end + HEAD_END.length);
        requests.push(head);
        if (!socket.destroyed) behaviour(socket, head);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    requests,
    open: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
