import { lenientHttpParser } from '../../src/forwarding/requestTarget';

describe('lenientHttpParser', () => {
  it.each([
    [[], undefined, false],
    [[], '', false],
    [['--max-semi-space-size=4', '--v8-pool-size=1'], '--max-old-space-size=512', false],
    [['--insecure-http-parser'], undefined, true],
    [[], '--insecure-http-parser', true],
    [[], '--max-old-space-size=512  --insecure-http-parser', true],
    [[], '--insecure-http-parser-not', false],
  ])('execArgv %j with NODE_OPTIONS %j: %s', (execArgv, nodeOptions, lenient) => {
    expect(lenientHttpParser(execArgv, nodeOptions)).toBe(lenient);
  });
});
