import { normalizePath } from '../../src/routing/normalizePath';

describe('normalizePath', () => {
  it.each([
    ['/', '/'],
    ['/api/x', '/api/x'],
    ['/api/../admin', '/admin'],
    ['/api/./x', '/api/x'],
    ['/api/%2e%2e/admin', '/admin'],
    ['/api/%2E%2E/admin', '/admin'],
    ['/../../etc', '/etc'],
    ['/..', '/'],
    ['/a/.', '/a/'],
    ['/a/b/..', '/a/'],
    ['/a/..b/c', '/a/..b/c'],
    ['/%7Euser/%61pi', '/~user/api'],
    ['/a%2fb', '/a%2Fb'],
    ['/a%2Fb/../c', '/c'],
    ['/x?a=../b', '/x?a=../b'],
    ['/api/../admin?q=%2e', '/admin?q=%2e'],
    ['*', '*'],
  ])('%s → %s', (target, expected) => {
    expect(normalizePath(target)).toBe(expected);
  });
});
