let mockPromClientLoaded = false;
jest.mock('prom-client', () => {
  mockPromClientLoaded = true;
  return jest.requireActual<object>('prom-client');
});

describe('metrics are loaded with the admin listener only', () => {
  it('leaves prom-client unloaded without [admin] and loads it with one', async () => {
    // Imported here, after the mock's flag exists: a module that loads prom-client at import
    // time must show up as loaded, not fail the suite.
    const { iniWith, startProxy } = await import('../helpers/proxy');
    const plain = await startProxy(iniWith('[http]\nserver1=127.0.0.1:9\n'));
    await plain.stop();
    expect(mockPromClientLoaded).toBe(false);

    const withAdmin = await startProxy(
      iniWith('[http]\nserver1=127.0.0.1:9\n[admin]\nhost=127.0.0.1\nport=0\n'),
    );
    await withAdmin.stop();
    expect(mockPromClientLoaded).toBe(true);
  });
});
