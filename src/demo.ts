import type { DemoBackend } from './adapters/demoBackends';

/** The configuration the demo runs with, written as a user would write it. */
export function demoConfigText(
  backends: readonly DemoBackend[],
  port: string,
  adminPort = '9901',
): string {
  const servers = backends.map((backend) => `${backend.name}=127.0.0.1:${backend.port}`).join('\n');
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
    '[admin]',
    'host=127.0.0.1',
    `port=${adminPort}`,
    '',
  ].join('\n');
}

/**
 * A WebSocket round trip that runs from any folder: Node's built-in WebSocket client, behind
 * a flag before Node 22.
 */
export function webSocketOneLiner(port: number, nodeMajor: number): string {
  const flags = nodeMajor < 22 ? '--experimental-websocket --no-warnings ' : '';
  return `node ${flags}-e "const ws = new WebSocket('ws://127.0.0.1:${port}/echo'); ws.onopen = () => ws.send('hi'); ws.onmessage = (m) => { console.log(m.data); ws.close(); }"`;
}

export function demoInstructions(
  port: number,
  backends: readonly DemoBackend[],
  adminPort: number | undefined,
  nodeMajor = Number(process.versions.node.split('.')[0]),
): string {
  const base = `http://127.0.0.1:${port}`;
  const admin = `http://127.0.0.1:${adminPort ?? 9901}`;
  return [
    `rxproxy demo: proxy on ${base}, backends ${backends.map((b) => `${b.name} on 127.0.0.1:${b.port}`).join(', ')}`,
    ...(adminPort === undefined
      ? []
      : [`Dashboard: ${admin}/  (status: ${admin}/status, metrics: ${admin}/metrics)`]),
    'Try:',
    `  curl ${base}/hello?name=world      # repeat it: the answers rotate over the three backends`,
    `  curl -H 'content-type: text/plain' --data 'hi' ${base}/echo      # the body comes back`,
    `  curl ${base}/healthCheck`,
    `  ${webSocketOneLiner(port, nodeMajor)}`,
    'Press Ctrl+C to stop.',
  ].join('\n');
}
