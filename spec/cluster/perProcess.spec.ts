import { perProcessConfig } from '../../src/cluster/perProcess';
import { configFromIni } from '../helpers/proxy';

const config = configFromIni(`[frontend]
host=127.0.0.1
port=8080
workers=3
[http]
server1=127.0.0.1:9001
max_pending=100
max_workers=4
buffer_size=7
[pool:api]
server1=127.0.0.1:9002
max_pending=0
[hooks]
rate_limit=90/s
rate_limit_burst=10
[admin]
port=9901
`);

describe('perProcessConfig', () => {
  const shared = perProcessConfig(config, 3);

  it('divides max_pending among the processes, rounding up', () => {
    expect(shared.http?.maxPending).toBe(34);
    expect(shared.pools.api?.maxPending).toBe(0);
  });

  it('divides rate_limit and its burst', () => {
    expect(shared.hooks.rateLimit?.tokensPerSecond).toBe(30);
    expect(shared.hooks.rateLimit?.burst).toBe(4);
    expect(shared.hooks.rateLimit?.text).toBe('90/s');
  });

  it('keeps per-backend figures per process', () => {
    expect(shared.http?.servers[0]?.maxWorkers).toBe(config.http?.servers[0]?.maxWorkers);
    expect(shared.http?.servers[0]?.bufferSize).toBe(config.http?.servers[0]?.bufferSize);
  });

  it('leaves the admin listener to the primary', () => {
    expect(shared.admin.port).toBeUndefined();
  });

  it('changes nothing for one process', () => {
    expect(perProcessConfig(config, 1)).toBe(config);
  });
});
