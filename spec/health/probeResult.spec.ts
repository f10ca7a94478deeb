import { interpretProbe } from '../../src/health/probeResult';

describe('interpretProbe', () => {
  it.each([
    [200, '{"status":200}', true],
    [200, '{"status":"200"}', true],
    [204, '', true],
    [200, 'OK', true],
    [200, '[1,2]', true],
    [200, '{"healthy":true}', true],
    [200, '{"status":500}', false],
    [200, '{"status":"down"}', false],
    [503, '{"status":200}', false],
    [302, '', false],
    [500, '', false],
  ])('status %d with body %s is up: %s', (status, body, up) => {
    expect(interpretProbe('server1', status, body).up).toBe(up);
  });

  it('gives a reason for a failure', () => {
    expect(interpretProbe('server1', 503, '')).toEqual({
      backend: 'server1',
      up: false,
      reason: 'status 503',
    });
    expect(interpretProbe('server1', 200, '{"status":500}').reason).toBe('body status 500');
  });

  it.each([
    ['{"status":200,"cpu":0.9,"memory":0.2}', { cpu: 0.9, memory: 0.2 }],
    ['{"status":200,"cpu":90,"memory":20}', { cpu: 0.9, memory: 0.2 }],
    ['{"status":200,"cpu":"45"}', { cpu: 0.45 }],
    ['{"status":200,"cpu":1}', { cpu: 1 }],
    ['{"status":200,"cpu":-1,"memory":250}', undefined],
    ['{"status":200,"cpu":"busy"}', undefined],
    ['{"status":200}', undefined],
  ])('reads the reported load from %s', (body, load) => {
    expect(interpretProbe('server1', 200, body).load).toEqual(load);
  });
});
