import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { parseConfigText } from '../../src/adapters/configFile';
import { formatProblem, type Config } from '../../src/config';
import type { ProxyEvent, ProxyEventOf, ProxyEventType } from '../../src/events';
import { createProxy, type Proxy, type ProxyOptions } from '../../src/proxy';

export interface RunningProxy {
  readonly proxy: Proxy;
  readonly config: Config;
  readonly address: AddressInfo;
  readonly url: string;
  readonly events: ProxyEvent[];
  stop(): Promise<void>;
}

export function configFromIni(text: string, env: Record<string, string> = {}): Config {
  const result = parseConfigText(text, 'test.ini', env);
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
  return result.config;
}

/** `[frontend]` on 127.0.0.1:0 followed by the given sections. */
export function iniWith(sections: string, frontend = ''): string {
  return `[frontend]\nhost=127.0.0.1\nport=0\n${frontend}\n${sections}`;
}

/**
 * The real proxy, started from an INI string on an ephemeral loopback port. `recordEvents:
 * false` leaves `events` empty, for long runs whose memory is measured.
 */
export async function startProxy(
  ini: string,
  options: ProxyOptions = {},
  { recordEvents = true } = {},
): Promise<RunningProxy> {
  const config = configFromIni(ini);
  const proxy = createProxy(config, options);
  const events: ProxyEvent[] = [];
  if (recordEvents) proxy.events$.subscribe((event) => events.push(event));
  const address = await proxy.start();
  return {
    proxy,
    config,
    address,
    url: `http://127.0.0.1:${address.port}`,
    events,
    stop: async () => {
      await proxy.stop();
    },
  };
}

/** The events of one type the proxy has emitted so far. */
export function eventsOf<T extends ProxyEventType>(
  running: RunningProxy,
  type: T,
): ProxyEventOf<T>[] {
  return running.events.filter((event): event is ProxyEventOf<T> => event.type === type);
}

/** A client with its own keep-alive connections, so tests never share sockets. */
export function testClient(): Agent {
  return new Agent({ keepAliveTimeout: 1000 });
}

export async function getJson(
  client: Agent,
  url: string,
): Promise<{
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}> {
  const response = await request(url, { dispatcher: client });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    body: text === '' ? undefined : JSON.parse(text),
    headers: response.headers,
  };
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** A GET with `headers`, its body read as text. */
export async function send(
  client: Agent,
  url: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await request(url, { dispatcher: client, headers });
  return {
    status: response.statusCode,
    body: await response.body.text(),
    headers: response.headers,
  };
}
