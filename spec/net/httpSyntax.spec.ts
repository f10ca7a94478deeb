import { INVALID_FIELD_VALUE, TOKEN, TOKEN_CHARS } from '../../src/net/httpSyntax';

describe('HTTP syntax', () => {
  const tchars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

  it('the token table holds exactly the 77 token characters of RFC 9110', () => {
    const inTable = [...TOKEN_CHARS.keys()].filter((code) => TOKEN_CHARS[code] === 1);
    expect(inTable.map((code) => String.fromCharCode(code)).sort()).toEqual([...tchars].sort());
  });

  it.each([
    ['X-Forwarded-For', true],
    [tchars, true],
    ['', false],
    ['a b', false],
    ['a:b', false],
    ['a\u00e9', false],
  ])('TOKEN %j: %s', (text, valid) => {
    expect(TOKEN.test(text)).toBe(valid);
  });

  it.each([
    ['plain value', false],
    ['tab\tand obs-text \u00e9\u00ff', false],
    ['CR\r', true],
    ['LF\n', true],
    ['NUL\0', true],
    ['DEL\u007f', true],
    ['beyond latin1 \u0100', true],
  ])('INVALID_FIELD_VALUE %j: %s', (text, invalid) => {
    expect(INVALID_FIELD_VALUE.test(text)).toBe(invalid);
  });
});
