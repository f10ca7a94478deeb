import { inRoundOrder } from '../../bench/lib/stats';

describe('inRoundOrder', () => {
  it('rotates the targets by one each round, so each runs first in turn', () => {
    const targets = ['rxproxy', 'node-http-proxy', 'nginx'];
    expect([1, 2, 3, 4].map((round) => inRoundOrder(targets, round))).toEqual([
      ['rxproxy', 'node-http-proxy', 'nginx'],
      ['node-http-proxy', 'nginx', 'rxproxy'],
      ['nginx', 'rxproxy', 'node-http-proxy'],
      ['rxproxy', 'node-http-proxy', 'nginx'],
    ]);
  });

  it('takes no targets and one target', () => {
    expect(inRoundOrder([], 2)).toEqual([]);
    expect(inRoundOrder(['nginx'], 5)).toEqual(['nginx']);
  });
});
