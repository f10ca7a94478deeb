import type { IncomingMessage } from 'node:http';
import type { HashKey } from '../config';

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) {
      return part.slice(separator + 1).trim();
    }
  }
  return undefined;
}

/** The key consistent-hash places a request by; undefined when the request does not carry it. */
export function hashKeyOf(
  key: HashKey,
  req: IncomingMessage,
  clientAddress: string | undefined,
): string | undefined {
  switch (key.source) {
    case 'ip':
      return clientAddress;
    case 'path': {
      const url = req.url ?? '/';
      const query = url.indexOf('?');
      return query < 0 ? url : url.slice(0, query);
    }
    case 'header': {
      const value = req.headers[key.name];
      return Array.isArray(value) ? value.join(',') : value;
    }
    case 'cookie':
      return cookieValue(req.headers.cookie, key.name);
  }
}
