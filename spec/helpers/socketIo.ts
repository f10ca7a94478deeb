import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { startServerProcess, type ChildServer } from './childServer';

const FIXTURE = join(__dirname, '..', 'fixtures', 'socketIoServer.js');
const ACK_TIMEOUT_MS = 5000;

/** What spec/fixtures/socketIoServer.js acknowledges a `chat` event with. */
export interface ChatAck {
  readonly server: string;
  readonly transport: string;
  readonly text: string;
}

export interface SocketIoServer extends ChildServer {
  readonly name: string;
}

/** A socket.io 4 chat server in its own process, which a test can SIGKILL. */
export async function startSocketIoServer(name: string): Promise<SocketIoServer> {
  const started = await startServerProcess([FIXTURE, name], (line) => {
    const printed = JSON.parse(line) as { port?: unknown; name?: unknown };
    return printed.name === name && typeof printed.port === 'number' ? printed.port : undefined;
  });
  return { ...started, name };
}

/** One socket.io client and what happened to it, each event with the time it was seen. */
export interface ChatClient {
  readonly socket: Socket;
  readonly connects: number[];
  readonly upgrades: number[];
  readonly connectErrors: string[];
  readonly disconnects: string[];
  close(): void;
}

/** A socket.io client with the default transports: long-polling first, then the upgrade. */
export function chatClient(url: string): ChatClient {
  const socket = io(url, {
    // In Node the client keeps cookies only with withCredentials: engine.io-client 6 creates
    // its cookie jar only then (socket.js; CookieJar in globals.node.js) and sends it with every
    // polling request (polling-xhr.node.js) and with the WebSocket upgrade (websocket.node.js).
    // A browser keeps them anyway. The jar belongs to one engine connection, so a reconnection
    // starts without the cookie, as a new tab would.
    withCredentials: true,
    // io() shares one connection per URL; each client here stands for its own browser.
    forceNew: true,
  });
  const client: ChatClient = {
    socket,
    connects: [],
    upgrades: [],
    connectErrors: [],
    disconnects: [],
    close: () => {
      socket.io.reconnection(false);
      socket.disconnect();
    },
  };
  socket.on('connect', () => client.connects.push(Date.now()));
  socket.on('connect_error', (error) => client.connectErrors.push(errorText(error)));
  socket.on('disconnect', (reason) => client.disconnects.push(reason));
  // Every engine connection, the first and each reconnection, announces its own upgrade.
  socket.io.on('open', () => {
    socket.io.engine.on('upgrade', () => client.upgrades.push(Date.now()));
  });
  return client;
}

function errorText(error: Error): string {
  // A transport error carries the HTTP status (or the underlying error) as its description.
  const { description } = error as Error & { description?: unknown };
  if (description === undefined) return error.message;
  const detail = description instanceof Error ? description.message : JSON.stringify(description);
  return `${error.message} (${detail})`;
}

/** Sends `text` as a `chat` event and resolves with the server's acknowledgement. */
export async function chat(client: ChatClient, text: string): Promise<ChatAck> {
  const ack: unknown = await client.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('chat', text);
  if (!isChatAck(ack) || ack.text !== text)
    throw new Error(`unexpected ack ${JSON.stringify(ack)}`);
  return ack;
}

/** `count` chat messages one after the other, each waiting for its acknowledgement. */
export async function exchange(client: ChatClient, count: number, tag: string): Promise<ChatAck[]> {
  const acks: ChatAck[] = [];
  for (let i = 0; i < count; i++) acks.push(await chat(client, `${tag} ${i}`));
  return acks;
}

function isChatAck(value: unknown): value is ChatAck {
  if (typeof value !== 'object' || value === null) return false;
  const { server, transport, text } = value as Record<string, unknown>;
  return typeof server === 'string' && typeof transport === 'string' && typeof text === 'string';
}

/** Waits until `condition` holds or `withinMs` passed; says which, so a test can report counts. */
export async function settled(condition: () => boolean, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** How many clients connected and upgraded, and every connect error by its text with a count. */
export function summary(clients: readonly ChatClient[]): {
  connected: number;
  upgraded: number;
  connectErrors: Record<string, number>;
} {
  const connectErrors: Record<string, number> = {};
  for (const text of clients.flatMap((client) => client.connectErrors)) {
    connectErrors[text] = (connectErrors[text] ?? 0) + 1;
  }
  return {
    connected: clients.filter((client) => client.connects.length > 0).length,
    upgraded: clients.filter((client) => client.upgrades.length > 0).length,
    connectErrors,
  };
}
