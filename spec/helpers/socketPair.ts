import { createServer, connect, type Server, type Socket } from 'node:net';

/** A loopback server handing out connected pairs of TCP sockets; `close` destroys them all. */
export interface SocketPairs {
  /** `[client, accepted]`, both with an `error` handler. */
  pair(): Promise<[Socket, Socket]>;
  close(): Promise<void>;
}

export async function socketPairs(): Promise<SocketPairs> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const open: Socket[] = [];
  return {
    async pair() {
      const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
      const { port } = server.address() as { port: number };
      const client = connect(port, '127.0.0.1');
      client.on('error', () => undefined);
      await new Promise<void>((resolve) => client.once('connect', resolve));
      const other = await accepted;
      other.on('error', () => undefined);
      open.push(client, other);
      return [client, other];
    },
    async close() {
      for (const socket of open.splice(0)) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
