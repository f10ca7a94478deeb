import type { DemoBackend } from './adapters/demoBackends';

/** The configuration the demo runs with, written as a user would write it. */
export function demoConfigText(backends: readonly DemoBackend[], port: string): string {
  const servers = backends
    .map((backend, index) => `server${index + 1}=127.0.0.1:${backend.port}`)
    .join('\n');
  return [
    '[frontend]',
    'host=127.0.0.1',
    `port=${port}`,
    '',
    '[http]',
    'algorithm=round-robin',
    servers,
    '',
    '[websocket]',
    'algorithm=round-robin',
    servers,
    '',
  ].join('\n');
}

export function demoInstructions(port: number, backends: readonly DemoBackend[]): string {
  const base = `http://127.0.0.1:${port}`;
  return [
    `rxproxy demo: proxy on ${base}, backends ${backends.map((b) => `${b.name} on 127.0.0.1:${b.port}`).join(', ')}`,
    'Try:',
    `  curl ${base}/hello?name=world      # repeat it: the answers rotate over the three backends`,
    `  curl -X POST --data 'hi' ${base}/echo`,
    `  curl ${base}/healthCheck`,
    `  node -e "const ws = new (require('ws'))('ws://127.0.0.1:${port}/echo'); ws.on('open', () => ws.send('hi')); ws.on('message', (m) => { console.log(String(m)); ws.close(); })"`,
    'Press Ctrl+C to stop.',
  ].join('\n');
}
