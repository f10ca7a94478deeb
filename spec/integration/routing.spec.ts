import { request } from 'undici';
import { useHarness } from '../helpers/harness';
import { eventsOf } from '../helpers/proxy';

describe('routes to named pools (HTTP)', () => {
  const harness = useHarness();

  const get = async (url: string, host: string) => {
    const response = await request(url, { headers: { host }, dispatcher: harness.client });
    return { status: response.statusCode, body: await response.body.text() };
  };

  it('sends each request to its route pool, strips a prefix, and falls back to [http]', async () => {
    const web = await harness.backend('web');
    const api = await harness.backend('api');
    const chat = await harness.backend('chat');
    const running = await harness.proxy(`[http]
server1=${web.address}
[pool:api]
server1=${api.address}
[pool:chat]
server1=${chat.address}
[route:api]
host=api.example.com
pool=api
[route:chat]
path_prefix=/chat
strip_path_prefix=true
pool=chat
`);
    expect((await get(`${running.url}/v1/users`, 'API.example.com:8080')).body).toContain('api');
    expect((await get(`${running.url}/chat/rooms?x=1`, 'www.example.com')).body).toContain('chat');
    expect(chat.received.at(-1)?.url).toBe('/rooms?x=1');
    expect((await get(`${running.url}/chatx`, 'www.example.com')).body).toContain('web');
    expect((await get(`${running.url}/x/../chat`, 'www.example.com')).body).toContain('chat');
    expect(chat.received.at(-1)?.url).toBe('/');
    expect(eventsOf(running, 'request').map((event) => event.pool)).toEqual([
      'api',
      'chat',
      'http',
      'chat',
    ]);
  });
});
