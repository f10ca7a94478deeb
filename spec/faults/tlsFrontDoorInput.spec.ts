import { randomBytes } from 'node:crypto';
import { connect as connectTcp } from 'node:net';
import { Agent, request } from 'undici';
import { useHarness } from '../helpers/harness';
import { eventsOf, type RunningProxy } from '../helpers/proxy';
import { useTestCertificates } from '../helpers/testCertificates';
import { sleep, waitUntil } from '../helpers/waitUntil';

const certs = useTestCertificates();

const HEADER_TIMEOUT_MS = 500;
/** An upper bound on the steady client's requests, so that its loop always ends. */
const STEADY_MAX_REQUESTS = 2000;

/** What a raw TCP client sending `bytes` to the TLS port got back, and when it was closed. */
interface RawOutcome {
  readonly received: Buffer;
  readonly closedAfterMs: number;
}

function sendRaw(port: number, bytes: Buffer | undefined, withinMs = 5000): Promise<RawOutcome> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const parts: Buffer[] = [];
    const socket = connectTcp({ host: '127.0.0.1', port }, () => {
      if (bytes) socket.write(bytes);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the connection was still open after ${withinMs} ms`));
    }, withinMs);
    socket.on('data', (part: Buffer) => parts.push(part));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received: Buffer.concat(parts), closedAfterMs: Date.now() - started });
    });
  });
}

/**
 * A client that keeps asking for /steady over HTTPS on its own connections until `stop()`,
 * recording every status (0 for an error).
 */
function steadyClient(running: RunningProxy) {
  const agent = new Agent({
    connect: { ca: certs.ca.cert, servername: 'proxy.test' },
    keepAliveTimeout: 1000,
  });
  const statuses: number[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped && statuses.length < STEADY_MAX_REQUESTS) {
      try {
        const answer = await request(`https://127.0.0.1:${running.address.port}/steady`, {
          dispatcher: agent,
        });
        await answer.body.dump();
        statuses.push(answer.statusCode);
      } catch {
        statuses.push(0);
      }
      await sleep(20);
    }
  })();
  let closed: Promise<void> | undefined;
  const close = async () => {
    stopped = true;
    await loop;
    await agent.close();
  };
  return { statuses, stop: () => (closed ??= close()) };
}

describe('bad input on the TLS front door', () => {
  const harness = useHarness();
  const { backend, proxy } = harness;

  it('closes plain HTTP, garbage and silent connections while HTTPS clients are served', async () => {
    const app = await backend('app');
    const leaf = certs.issue('faults', ['proxy.test'], 90);
    const running = await proxy(
      `[http]\nserver1=${app.address}\n`,
      `tls_cert=${leaf.certFile}\ntls_key=${leaf.keyFile}\nheader_timeout=${HEADER_TIMEOUT_MS}ms\n`,
    );
    const port = running.address.port;
    const steady = steadyClient(running);
    harness.onCleanup(() => steady.stop());
    await waitUntil(() => steady.statuses.length >= 3, 'the steady client is served');

    const plain = await sendRaw(port, Buffer.from('GET / HTTP/1.1\r\nHost: proxy.test\r\n\r\n'));
    expect(plain.received.toString('latin1')).not.toContain('HTTP/1.1');

    const garbage = await sendRaw(port, randomBytes(2048));
    expect(garbage.received.toString('latin1')).not.toContain('HTTP/1.1');

    const silent = await sendRaw(port, undefined);
    expect(silent.received.length).toBe(0);
    expect(silent.closedAfterMs).toBeGreaterThanOrEqual(HEADER_TIMEOUT_MS - 50);
    expect(silent.closedAfterMs).toBeLessThan(HEADER_TIMEOUT_MS + 2000);

    // The steady client goes on being served after all three.
    const servedBefore = steady.statuses.length;
    await waitUntil(() => steady.statuses.length >= servedBefore + 3, 'more steady answers');
    await steady.stop();
    expect(steady.statuses.length).toBeGreaterThan(6);
    expect(steady.statuses.filter((status) => status !== 200)).toEqual([]);

    const tlsErrors = eventsOf(running, 'client-error').filter((event) => event.tls === true);
    expect(tlsErrors.length).toBeGreaterThanOrEqual(3);
    expect(app.received.every((seen) => seen.url === '/steady')).toBe(true);
    expect(eventsOf(running, 'stopped')).toEqual([]);
    expect(running.proxy.address?.port).toBe(port);
  });
});
