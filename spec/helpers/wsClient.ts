import { WebSocket } from 'ws';
import { waitUntil } from './waitUntil';

/** A `ws` client that records its text messages and how it closed. */
export interface RecordingClient {
  readonly ws: WebSocket;
  readonly messages: string[];
  closed: { readonly code: number; readonly at: number } | undefined;
}

/** Opens a WebSocket to `url` and resolves once it is open; `onCleanup` ends it after the test. */
export async function openRecording(
  url: string,
  onCleanup: (cleanup: () => void) => void,
  withinMs = 5000,
): Promise<RecordingClient> {
  const ws = new WebSocket(url);
  onCleanup(() => ws.terminate());
  const client: RecordingClient = { ws, messages: [], closed: undefined };
  let failure: Error | undefined;
  ws.on('error', (error) => (failure = error));
  ws.on('message', (data: Buffer) => client.messages.push(data.toString()));
  ws.once('close', (code) => (client.closed = { code, at: Date.now() }));
  await waitUntil(
    () => ws.readyState !== WebSocket.CONNECTING,
    `the WebSocket to ${url} opens`,
    withinMs,
  );
  if (ws.readyState !== WebSocket.OPEN) {
    throw new Error(`the WebSocket did not open: ${failure?.message ?? 'closed'}`);
  }
  return client;
}

/** Sends `text` and resolves with the next message received. */
export async function echoOf(client: RecordingClient, text: string): Promise<string> {
  const before = client.messages.length;
  client.ws.send(text);
  await waitUntil(() => client.messages.length > before, `the echo of "${text}"`);
  return client.messages[before] ?? '';
}

/** Resolves with how the client closed, once it has. */
export async function closeOf(
  client: RecordingClient,
  withinMs = 5000,
): Promise<{ readonly code: number; readonly at: number }> {
  await waitUntil(() => client.closed !== undefined, 'the WebSocket closes', withinMs);
  if (!client.closed) throw new Error('unreachable');
  return client.closed;
}
