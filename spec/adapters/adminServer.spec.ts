import { connect, type Socket } from 'node:net';
import { Subject } from 'rxjs';
import {
  EVENT_STREAM_MAX_BUFFER,
  createAdminServer,
  type AdminServer,
} from '../../src/adapters/adminServer';
import { waitUntil } from '../helpers/waitUntil';

describe('admin server /events', () => {
  let server: AdminServer | undefined;
  let socket: Socket | undefined;
  afterEach(async () => {
    socket?.destroy();
    await server?.close();
  });

  it('drops a reader that falls more than its buffer behind, and says so', async () => {
    const frames = new Subject<string>();
    const errors: string[] = [];
    server = createAdminServer(
      { host: '127.0.0.1', port: 0, token: undefined, metricsBuckets: [1] },
      {
        readiness: () => ({ ready: true, reason: 'ready' }),
        status: () => ({}),
        metrics: { contentType: 'text/plain', scrape: () => Promise.resolve('') },
        feed: () => frames,
        dashboard: '',
        onError: (message) => errors.push(message),
        control: () => 'ok',
        routing: { list: () => ({}), match: () => ({}) },
      },
    );
    const { port } = await server.listen();
    // A reader that sends its request and never reads the answer.
    socket = connect(port, '127.0.0.1', () => {
      socket?.write('GET /events HTTP/1.1\r\nhost: admin\r\n\r\n');
      socket?.pause();
    });
    socket.on('error', () => undefined);
    await waitUntil(() => frames.observed, 'the stream is subscribed');
    const frame = `data: ${'x'.repeat(64 * 1024)}\n\n`;
    // Bounded: far more than the buffer plus what the kernel holds for a loopback socket.
    for (let i = 0; i < 2000 && errors.length === 0; i++) {
      frames.next(frame);
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await waitUntil(() => errors.length > 0, 'the slow reader is dropped', 5000);
    expect(errors).toEqual(['an /events reader fell behind and was dropped']);
    expect(EVENT_STREAM_MAX_BUFFER).toBe(1024 * 1024);
    await waitUntil(() => !frames.observed, 'its subscription ends');
  });
});
