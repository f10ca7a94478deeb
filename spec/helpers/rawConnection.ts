import { connect, type Socket } from 'node:net';

/** Longest a raw wait takes unless told otherwise. */
const DEFAULT_WAIT_MS = 5000;

export interface ParsedResponse {
  readonly status: number;
  /** Header lines as sent, in order, names as written. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
  /** Whether the body is complete according to Content-Length (or there is none). */
  readonly complete: boolean;
}

/** Parses the first HTTP/1.1 response in raw text, or undefined while its head is incomplete. */
export function parseResponse(text: string): ParsedResponse | undefined {
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [statusLine = '', ...lines] = text.slice(0, headEnd).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const rest = text.slice(headEnd + 4);
  const length = headers.find(([name]) => name.toLowerCase() === 'content-length')?.[1];
  const expected = length === undefined ? undefined : Number(length);
  return {
    status,
    headers,
    body: expected === undefined ? rest : rest.slice(0, expected),
    complete: expected === undefined || Buffer.byteLength(rest, 'latin1') >= expected,
  };
}

export function headerValues(response: ParsedResponse, name: string): string[] {
  return response.headers
    .filter(([header]) => header.toLowerCase() === name)
    .map(([, value]) => value);
}

export function mustParse(text: string): ParsedResponse {
  const parsed = parseResponse(text);
  if (!parsed) throw new Error(`no complete response head in ${JSON.stringify(text)}`);
  return parsed;
}

/** A raw loopback connection for exchanges that need to wait between writes. */
export interface RawConnection {
  write(data: string | Buffer): void;
  /** Resolves with everything read once `done` holds; rejects after `timeoutMs` or on close. */
  waitFor(done: (text: string, closed: boolean) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves with everything read once the peer has closed the connection. */
  waitForClose(timeoutMs?: number): Promise<string>;
  destroy(): void;
}

export async function openRaw(port: number): Promise<RawConnection> {
  const socket: Socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  const text = (): string => Buffer.concat(chunks).toString('latin1');
  const waitFor = (
    done: (text: string, closed: boolean) => boolean,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<string> =>
    new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        socket.off('data', check);
        socket.off('close', check);
      };
      const check = (): void => {
        if (done(text(), closed)) {
          finish();
          resolve(text());
        } else if (closed) {
          finish();
          reject(new Error(`connection closed; received ${JSON.stringify(text())}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`nothing expected after ${timeoutMs} ms; got ${JSON.stringify(text())}`));
      }, timeoutMs);
      socket.on('data', check);
      socket.on('close', check);
      check();
    });
  return {
    write: (data) => {
      socket.write(data);
    },
    waitFor,
    waitForClose: (timeoutMs) => waitFor((_text, isClosed) => isClosed, timeoutMs),
    destroy: () => {
      socket.destroy();
    },
  };
}
