import { request } from 'undici';
import { sleep } from './waitUntil';

/** Reads server-sent events until `count` data lines arrived or the time is up. */
export async function readEvents(
  url: string,
  count: number,
  act: () => Promise<void>,
  headers = {},
) {
  const controller = new AbortController();
  const response = await request(url, { headers, signal: controller.signal });
  const events: { type: string; time: string; [field: string]: unknown }[] = [];
  let buffered = '';
  const done = (async () => {
    for await (const chunk of response.body) {
      buffered += (chunk as Buffer).toString();
      for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
        const frame = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (frame.startsWith('data: ')) events.push(JSON.parse(frame.slice(6)) as never);
      }
      if (events.length >= count) break;
    }
  })().catch(() => undefined);
  await act();
  await Promise.race([done, sleep(3000)]);
  controller.abort();
  return { status: response.statusCode, headers: response.headers, events };
}
