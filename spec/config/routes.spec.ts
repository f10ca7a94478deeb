import { parseConfigText } from '../../src/adapters/configFile';
import { expectConfig, problemLines } from '../helpers/configResult';

const BASE = `[frontend]
host=127.0.0.1
port=8080
[http]
server1=127.0.0.1:9001
`;

const parse = (text: string) => parseConfigText(BASE + text, 'proxy.ini', {});

describe('[pool:NAME] and [route:NAME]', () => {
  it('reads named pools with every [http] key and routes in file order', () => {
    const config = expectConfig(
      parse(`[pool:api]
server1=127.0.0.1:9101
server1_max_workers=8
algorithm=round-robin
enable_health_check=true
[pool:chat]
server1=127.0.0.1:9201
[route:api]
host=API.example.com, *.api.test, [::1]
path_prefix=/api/
strip_path_prefix=true
pool=api
[route:chat]
path_prefix=/ws
pool=http
websocket_pool=chat
priority=-2
`),
    );
    expect(Object.keys(config.pools)).toEqual(['api', 'chat']);
    expect(config.pools.api?.algorithm).toBe('round-robin');
    expect(config.pools.api?.enableHealthCheck).toBe(true);
    expect(config.pools.api?.servers[0]?.maxWorkers).toBe(8);
    expect(config.pools.chat?.servers.map((server) => server.address)).toEqual(['127.0.0.1:9201']);
    expect(config.routes).toEqual([
      {
        name: 'api',
        hosts: ['api.example.com', '*.api.test', '[::1]'],
        pathPrefix: '/api',
        stripPathPrefix: true,
        pool: 'api',
        websocketPool: 'api',
        priority: undefined,
      },
      {
        name: 'chat',
        hosts: [],
        pathPrefix: '/ws',
        stripPathPrefix: false,
        pool: 'http',
        websocketPool: 'chat',
        priority: -2,
      },
    ]);
  });

  it('keeps the seed file unchanged: no pools, no routes', () => {
    const config = expectConfig(parse(''));
    expect(config.pools).toEqual({});
    expect(config.routes).toEqual([]);
  });

  it('lists every problem of pools and routes at once, naming section and key', () => {
    expect(
      problemLines(
        parse(`[pool:api]
server1=127.0.0.1:9101
sever2=127.0.0.1:9102
[pool:http]
server1=127.0.0.1:9001
[pool:bad name]
server1=127.0.0.1:9001
[pool:empty]
algorithm=random
[route:bad]
host=a..b, ,*.x.*
path_prefix=nope
pool=nowhere
websocket_pool=gone
priority=x
[route:no-pool]
strip_path_prefix=true
[route:strip]
strip_path_prefix=true
pool=api
[route:tie1]
host=a.test
path_prefix=/t
pool=api
[route:tie2]
host=b.test, a.test
path_prefix=/t/
pool=http
[route:fine]
host=a.test
path_prefix=/t
priority=1
pool=api
`),
      ),
    ).toEqual([
      'proxy.ini: [pool:api] sever2: unknown key (did you mean server2?)',
      'proxy.ini: [pool:http]: the pool "http" is the [http] section',
      'proxy.ini: [pool:bad name]: "bad name" is not a pool name (letters, digits, "-" and "_")',
      'proxy.ini: [route:bad] host: "a..b" is not a host name, an IP address or a *.domain wildcard',
      'proxy.ini: [route:bad] host: has an empty host in its list',
      'proxy.ini: [route:bad] host: "*.x.*" is not a host name, an IP address or a *.domain wildcard',
      'proxy.ini: [route:bad] path_prefix: "nope" does not start with /',
      'proxy.ini: [route:bad] priority: "x" is not a whole number',
      'proxy.ini: [pool:empty]: no servers (add server1=host:port)',
      'proxy.ini: [route:bad] pool: names no pool "nowhere" (http, api, empty)',
      'proxy.ini: [route:bad] websocket_pool: names no pool "gone" (http, api, empty)',
      'proxy.ini: [route:no-pool] pool: is required (the pool for its HTTP requests)',
      'proxy.ini: [route:strip] strip_path_prefix: needs path_prefix',
      'proxy.ini: [route:tie2]: ties with [route:tie1]: the same priority, path_prefix and an overlapping host; give one a priority',
    ]);
  });

  it('refuses the [websocket] pool for HTTP requests when [http] exists', () => {
    expect(
      problemLines(
        parse(`[websocket]
server1=127.0.0.1:9002
[route:ws]
path_prefix=/ws
pool=websocket
`),
      ),
    ).toEqual([
      'proxy.ini: [route:ws] pool: the [websocket] pool takes WebSocket upgrades only: name it in websocket_pool',
    ]);
  });
});
