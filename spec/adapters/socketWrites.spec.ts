import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { writeSocket, type WriteQueueOwner } from '../../src/adapters/socketWrites';
import { socketPairs, type SocketPairs } from '../helpers/socketPair';
import { sleep, waitUntil } from '../helpers/waitUntil';

/** Every byte `socket` receives until it ends. */
function receivedUntilEnd(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => socket.once('end', () => resolve(Buffer.concat(chunks))));
}

function drainCounter(): WriteQueueOwner & { drains: number } {
  return {
    drains: 0,
    writesDrained() {
      this.drains++;
    },
  };
}

describe('writeSocket', () => {
  let sockets: SocketPairs;

  beforeEach(async () => {
    sockets = await socketPairs();
  });

  afterEach(() => sockets.close());

  it('writes through the TCP handle: small writes go out at once, in order, nothing queued', async () => {
    const [client, accepted] = await sockets.pair();
    const received = receivedUntilEnd(client);
    const owner = drainCounter();
    const writes = writeSocket(accepted, owner);
    expect(writes.direct).toBe(true);
    const sent: Buffer[] = [];
    for (let i = 0; i < 1000; i++) {
      const chunk = randomBytes(1 + (i % 97));
      sent.push(chunk);
      expect(writes.write(chunk)).toBe(0);
    }
    accepted.end();
    expect((await received).equals(Buffer.concat(sent))).toBe(true);
    expect(owner.drains).toBe(0);
  });

  it('queues what the peer does not read, reports it, tells the owner once it has drained, and ends after it', async () => {
    const [client, accepted] = await sockets.pair();
    client.pause();
    const owner = drainCounter();
    const writes = writeSocket(accepted, owner);
    const sent: Buffer[] = [];
    let queued = 0;
    // Far more than the two kernel buffers hold: some writes have to wait.
    for (let i = 0; i < 128; i++) {
      const chunk = randomBytes(64 * 1024);
      sent.push(chunk);
      queued = writes.write(chunk);
    }
    expect(queued).toBeGreaterThan(0);
    expect(writes.queued()).toBe(queued);
    // end() goes through the Writable: the shutdown waits for the queued writes.
    accepted.end();
    await sleep(20);
    expect(owner.drains).toBe(0);
    const received = receivedUntilEnd(client);
    client.resume();
    expect((await received).equals(Buffer.concat(sent))).toBe(true);
    await waitUntil(() => owner.drains === 1, 'the owner is told of the drain');
    expect(writes.queued()).toBe(0);
  });

  it('destroys the socket with a write error when the peer has gone, and never throws', async () => {
    const [client, accepted] = await sockets.pair();
    const errors: string[] = [];
    accepted.removeAllListeners('error');
    accepted.on('error', (error) => errors.push(error.message));
    // Not read: the reset can only show through a write.
    (accepted as unknown as { _handle: { readStop(): number } })._handle.readStop();
    const writes = writeSocket(accepted, drainCounter());
    client.resetAndDestroy();
    for (let attempt = 0; attempt < 200 && !accepted.destroyed; attempt++) {
      writes.write(Buffer.alloc(1024));
      await sleep(5);
    }
    expect(accepted.destroyed).toBe(true);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/^write (ECONNRESET|EPIPE)$/);
    // The handle is closed now: writes are dropped.
    expect(() => writes.write(Buffer.alloc(10))).not.toThrow();
  });

  it('goes through the Writable where bytes already wait in it, and for a socket with an idle timeout', async () => {
    const [client, accepted] = await sockets.pair();
    const received = receivedUntilEnd(client);
    accepted.cork();
    accepted.write('first ');
    const writes = writeSocket(accepted, drainCounter());
    expect(writes.direct).toBe(false);
    writes.write(Buffer.from('second'));
    accepted.uncork();
    accepted.end();
    expect((await received).toString()).toBe('first second');

    const [, timed] = await sockets.pair();
    timed.setTimeout(60_000);
    expect(writeSocket(timed, drainCounter()).direct).toBe(false);
  });

  it("goes through the Writable of a stream without a TCP handle, draining at its 'drain'", async () => {
    const stream = new PassThrough({ highWaterMark: 4 });
    const owner = drainCounter();
    const writes = writeSocket(stream, owner);
    expect(writes.direct).toBe(false);
    expect(writes.write(Buffer.from('abcdef'))).toBe(6);
    expect(writes.queued()).toBe(6);
    expect(String(stream.read())).toBe('abcdef');
    await waitUntil(() => owner.drains === 1, 'the owner is told of the drain');
  });
});
