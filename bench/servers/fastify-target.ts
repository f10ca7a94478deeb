// fastify + @fastify/reply-from (undici) in front of the backends: round-robin per request by
// choosing the upstream base for each request; undici keeps up to 64 connections per backend
// alive. reply-from proxies HTTP only, so this target takes no part in the WebSocket tests.

import replyFrom from '@fastify/reply-from';
import Fastify from 'fastify';
import { arg, listen, numArg } from '../lib/child-io';

const port = numArg('port', 0);
const bases = arg('backends', '')
  .split(',')
  .filter(Boolean)
  .map((hostPort) => `http://${hostPort}`);
if (bases.length === 0) throw new Error('--backends host:port,... is required');

async function main(): Promise<void> {
  const app = Fastify({ logger: false });
  await app.register(replyFrom, {
    undici: {
      connections: 64,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 60_000,
    },
  });
  // Pass request bodies through untouched.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));
  let next = 0;
  app.all('/*', (request, reply) => {
    const base = bases[next++ % bases.length] ?? '';
    return reply.from(request.url, { getUpstream: () => base });
  });
  await app.listen({ host: '127.0.0.1', port });
  listen(
    () => undefined,
    () => {
      void app.close().finally(() => process.exit(0));
      setTimeout(() => process.exit(0), 2000).unref();
    },
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
