import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { connect as connectTls, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { readSocket } from '../../src/adapters/socketReads';
import { socketPairs, type SocketPairs } from '../helpers/socketPair';
import { createTestCertificates } from '../helpers/testCertificates';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('readSocket', () => {
  let sockets: SocketPairs;

  beforeEach(async () => {
    sockets = await socketPairs();
  });

  afterEach(() => sockets.close());

  const pair = (): Promise<[Socket, Socket]> => sockets.pair();

  it('reads a TCP socket directly: every byte in order, first what its Readable had buffered', async () => {
    const [client, accepted] = await pair();
    // Read by the stream before readSocket takes over, as an upgraded socket is.
    accepted.pause();
    const early = randomBytes(1000);
    client.write(early);
    await sleep(50);
    const chunks: Buffer[] = [];
    const reads = readSocket(accepted, (chunk) => chunks.push(chunk));
    expect(reads.direct).toBe(true);
    const late = randomBytes(300_000);
    client.end(late);
    await new Promise<void>((resolve) => accepted.once('end', resolve));
    expect(Buffer.concat(chunks).equals(Buffer.concat([early, late]))).toBe(true);
  });

  it('hands each chunk over as a copy that later reads do not overwrite', async () => {
    const [client, accepted] = await pair();
    const chunks: Buffer[] = [];
    readSocket(accepted, (chunk) => chunks.push(chunk));
    client.write(Buffer.alloc(10, 'a'));
    await sleep(30);
    client.write(Buffer.alloc(10, 'b'));
    await sleep(30);
    expect(chunks.map((chunk) => chunk.toString())).toEqual(['a'.repeat(10), 'b'.repeat(10)]);
  });

  it('stops reading while paused and reads on after resume', async () => {
    const [client, accepted] = await pair();
    let received = 0;
    const reads = readSocket(accepted, (chunk) => (received += chunk.length));
    reads.pause();
    client.write(Buffer.alloc(5000));
    await sleep(50);
    expect(received).toBe(0);
    reads.resume();
    await sleep(50);
    expect(received).toBe(5000);
  });

  it('emits close and error as before when the other side resets', async () => {
    const [client, accepted] = await pair();
    readSocket(accepted, () => undefined);
    const closed = new Promise<void>((resolve) => accepted.once('close', () => resolve()));
    client.resetAndDestroy();
    await closed;
    expect(accepted.destroyed).toBe(true);
  });

  it("falls back to 'data' events on a stream without a TCP handle", async () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    const reads = readSocket(stream, (chunk) => chunks.push(chunk));
    expect(reads.direct).toBe(false);
    stream.write('one');
    reads.pause();
    stream.write('two');
    await sleep(10);
    expect(Buffer.concat(chunks).toString()).toBe('one');
    reads.resume();
    await sleep(10);
    expect(Buffer.concat(chunks).toString()).toBe('onetwo');
  });

  it("reads a TLS socket through 'data' events: its handle is a TLSWrap, not a TCP handle", async () => {
    const certs = createTestCertificates();
    const { key, cert } = certs.issue('reads', ['127.0.0.1']);
    const tlsServer = createTlsServer({ key, cert });
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<TLSSocket>((resolve) =>
      tlsServer.once('secureConnection', resolve),
    );
    const { port } = tlsServer.address() as { port: number };
    const client = connectTls({ host: '127.0.0.1', port, ca: certs.ca.cert });
    try {
      await new Promise<void>((resolve) => client.once('secureConnect', resolve));
      const server = await accepted;
      // The handle has the methods direct reads use: only the socket's kind keeps them off it.
      const handle = (client as unknown as { _handle: Record<string, unknown> })._handle;
      expect(typeof handle.useUserBuffer).toBe('function');
      const chunks: Buffer[] = [];
      const reads = readSocket(client, (chunk) => chunks.push(chunk));
      expect(reads.direct).toBe(false);
      const sent = randomBytes(200_000);
      server.end(sent);
      await new Promise<void>((resolve) => client.once('end', resolve));
      expect(Buffer.concat(chunks).equals(sent)).toBe(true);
    } finally {
      client.destroy();
      await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
      certs.remove();
    }
  });
});
