import {
  parseAddress,
  parseAlgorithm,
  parseBoolean,
  parseDurationMs,
  parseHost,
  parseInteger,
  parseLogLevel,
  parsePort,
  type Parsed,
} from './values';

export const SECTIONS = ['frontend', 'http', 'websocket'] as const;
export type SectionName = (typeof SECTIONS)[number];

/**
 * Where a key lives: `frontend` and `pool` keys are written as they are; `server` keys are
 * written `serverN_<key>` (or plain `serverN` for the address).
 */
export type KeyScope = 'frontend' | 'pool' | 'server';

export interface KeySpec {
  readonly key: string;
  readonly scope: KeyScope;
  readonly sections: readonly SectionName[];
  /** The documented default, parsed like a written value; undefined when the key is required. */
  readonly defaultText: string | undefined;
  readonly unit: 'seconds' | 'count' | 'port' | 'boolean' | 'text' | 'host:port';
  /** Whether the Go original had the key (our compatibility contract) or rxproxy added it. */
  readonly origin: 'original' | 'rxproxy';
  readonly parse: (text: string) => Parsed<unknown>;
}

const POOLS: readonly SectionName[] = ['http', 'websocket'];
const HTTP: readonly SectionName[] = ['http'];
const FRONTEND: readonly SectionName[] = ['frontend'];

const positiveDuration = (text: string) => parseDurationMs(text, 1);
const duration = (text: string) => parseDurationMs(text, 0);
const atLeastOne = (text: string) => parseInteger(text, 1);
const atLeastZero = (text: string) => parseInteger(text, 0);

const workerKeys = (scope: KeyScope, origin: KeySpec['origin']): KeySpec[] => [
  {
    key: 'max_workers',
    scope,
    sections: HTTP,
    defaultText: '3',
    unit: 'count',
    origin,
    parse: atLeastOne,
  },
  {
    key: 'min_workers',
    scope,
    sections: HTTP,
    defaultText: '1',
    unit: 'count',
    origin,
    parse: atLeastZero,
  },
  {
    key: 'worker_timeout',
    scope,
    sections: HTTP,
    defaultText: '3',
    unit: 'seconds',
    origin,
    parse: positiveDuration,
  },
  {
    key: 'buffer_size',
    scope,
    sections: HTTP,
    defaultText: '10',
    unit: 'count',
    origin,
    parse: atLeastOne,
  },
];

export const KEY_SPECS: readonly KeySpec[] = [
  {
    key: 'host',
    scope: 'frontend',
    sections: FRONTEND,
    defaultText: undefined,
    unit: 'text',
    origin: 'original',
    parse: parseHost,
  },
  {
    key: 'port',
    scope: 'frontend',
    sections: FRONTEND,
    defaultText: undefined,
    unit: 'port',
    origin: 'original',
    parse: (text) => parsePort(text, 0),
  },
  {
    key: 'log_level',
    scope: 'frontend',
    sections: FRONTEND,
    defaultText: 'info',
    unit: 'text',
    origin: 'rxproxy',
    parse: parseLogLevel,
  },
  {
    key: 'drain_timeout',
    scope: 'frontend',
    sections: FRONTEND,
    defaultText: '10',
    unit: 'seconds',
    origin: 'rxproxy',
    parse: duration,
  },
  {
    key: 'header_timeout',
    scope: 'frontend',
    sections: FRONTEND,
    defaultText: '10',
    unit: 'seconds',
    origin: 'rxproxy',
    parse: positiveDuration,
  },

  {
    key: 'enable_health_check',
    scope: 'pool',
    sections: POOLS,
    defaultText: 'false',
    unit: 'boolean',
    origin: 'original',
    parse: parseBoolean,
  },
  {
    key: 'health_check_interval',
    scope: 'pool',
    sections: POOLS,
    defaultText: '10',
    unit: 'seconds',
    origin: 'original',
    parse: positiveDuration,
  },
  {
    key: 'algorithm',
    scope: 'pool',
    sections: POOLS,
    defaultText: 'random',
    unit: 'text',
    origin: 'original',
    parse: parseAlgorithm,
  },
  {
    key: 'connect_timeout',
    scope: 'pool',
    sections: HTTP,
    defaultText: '5',
    unit: 'seconds',
    origin: 'rxproxy',
    parse: positiveDuration,
  },
  {
    key: 'response_timeout',
    scope: 'pool',
    sections: HTTP,
    defaultText: '60',
    unit: 'seconds',
    origin: 'rxproxy',
    parse: positiveDuration,
  },
  {
    key: 'queue_timeout',
    scope: 'pool',
    sections: HTTP,
    defaultText: '5',
    unit: 'seconds',
    origin: 'rxproxy',
    parse: positiveDuration,
  },
  {
    key: 'retries',
    scope: 'pool',
    sections: HTTP,
    defaultText: '1',
    unit: 'count',
    origin: 'rxproxy',
    parse: atLeastZero,
  },
  {
    key: 'preserve_host',
    scope: 'pool',
    sections: HTTP,
    defaultText: 'true',
    unit: 'boolean',
    origin: 'rxproxy',
    parse: parseBoolean,
  },
  ...workerKeys('pool', 'rxproxy'),

  {
    key: '',
    scope: 'server',
    sections: POOLS,
    defaultText: undefined,
    unit: 'host:port',
    origin: 'original',
    parse: parseAddress,
  },
  {
    key: 'addr',
    scope: 'server',
    sections: POOLS,
    defaultText: undefined,
    unit: 'host:port',
    origin: 'original',
    parse: parseAddress,
  },
  ...workerKeys('server', 'original'),
];

/** The name a key is written with in a file, with `N` for the server number. */
export function writtenName(spec: KeySpec, serverNumber: string | number = 'N'): string {
  if (spec.scope !== 'server') return spec.key;
  return spec.key === '' ? `server${serverNumber}` : `server${serverNumber}_${spec.key}`;
}

export function specFor(section: SectionName, scope: KeyScope, key: string): KeySpec | undefined {
  return KEY_SPECS.find(
    (spec) => spec.scope === scope && spec.key === key && spec.sections.includes(section),
  );
}

/** The parsed default of a key that has one. */
export function defaultOf<T>(section: SectionName, scope: KeyScope, key: string): T {
  const spec = specFor(section, scope, key) ?? specFor('http', scope, key);
  const parsed = spec?.defaultText === undefined ? undefined : spec.parse(spec.defaultText);
  if (!parsed?.ok) {
    throw new Error(`no default for ${scope} key ${key}`);
  }
  return parsed.value as T;
}
