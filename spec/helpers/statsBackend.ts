import { request } from 'undici';
import { startChildServer, type ChildServer } from './childServer';

/** What a stats backend counted since it started; its own stats requests are left out. */
export interface BackendStats {
  /** TCP connections the proxy opened: HTTP workers and WebSocket upgrades. */
  readonly accepted: number;
  /** Of those, the ones that asked for a WebSocket upgrade. */
  readonly upgrades: number;
  /** Plain HTTP requests answered. */
  readonly requests: number;
  /** WebSockets open now. */
  readonly openWebSockets: number;
  /** Closed WebSockets by close code. */
  readonly closes: Record<string, number>;
}

export interface StatsBackend extends ChildServer {
  readonly name: string;
  stats(): Promise<BackendStats>;
}

/**
 * An HTTP and WebSocket backend in its own process, so the test process holds only the proxy's
 * and the clients' sockets. GETs get `{"backend":NAME,"url":...}`; a WebSocket is greeted with
 * NAME and then echoes; `GET /__stats` (counted apart) answers its BackendStats.
 */
export async function startStatsBackend(name: string): Promise<StatsBackend> {
  const child = await startChildServer(`
    const http = require('node:http');
    const { WebSocketServer } = require('ws');
    const NAME = ${JSON.stringify(name)};
    let accepted = 0, statsSockets = 0, upgrades = 0, requests = 0, open = 0;
    const closes = {};
    const server = http.createServer((req, res) => {
      if (req.url === '/__stats') {
        if (!req.socket.countedAsStats) {
          req.socket.countedAsStats = true;
          statsSockets++;
        }
        res.end(JSON.stringify({
          accepted: accepted - statsSockets, upgrades, requests, openWebSockets: open, closes,
        }));
        return;
      }
      requests++;
      req.resume();
      req.on('end', () => res.end(JSON.stringify({ backend: NAME, url: req.url })));
    });
    server.keepAliveTimeout = 120000;
    server.on('connection', () => accepted++);
    const wss = new WebSocketServer({ noServer: true, clientTracking: false });
    server.on('upgrade', (req, socket, head) => {
      upgrades++;
      socket.on('error', () => socket.destroy());
      wss.handleUpgrade(req, socket, head, (ws) => {
        open++;
        ws.on('error', () => ws.terminate());
        ws.on('close', (code) => {
          open--;
          closes[code] = (closes[code] || 0) + 1;
        });
        ws.send(NAME);
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      });
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));
  `);
  return {
    ...child,
    name,
    stats: async () => {
      const response = await request(`http://${child.address}/__stats`, { reset: true });
      return (await response.body.json()) as BackendStats;
    },
  };
}
