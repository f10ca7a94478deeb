// Asks an external auth service about every request (and WebSocket handshake) before it goes
// to a backend: `[hooks] module = auth.js`, with AUTH_URL naming the service.
//   200 {"user":"ann"}  -> forwarded with `x-user: ann`
//   any other status    -> 401 {"error":"unauthorized"}
//   service unreachable -> 503 {"error":"auth unavailable"}
// The call runs inside `mergeMap`, so many requests wait for it at once; a client that goes away
// unsubscribes its call, which aborts the fetch. A service that stays silent past
// `hook_timeout` gets the request 504 {"error":"hook timeout"}.
/* global fetch, AbortController -- Node 20 globals */
module.exports = ({ rxjs: { Observable, mergeMap }, reply }) => {
  const authUrl = process.env.AUTH_URL ?? 'http://127.0.0.1:9000/check';

  async function check(req, signal) {
    delete req.headers['x-user']; // only the auth service names the user
    const authorization = req.headers.authorization;
    try {
      const answer = await fetch(authUrl, {
        headers: typeof authorization === 'string' ? { authorization } : {},
        signal,
      });
      if (answer.status !== 200) {
        await answer.arrayBuffer();
        return reply(req, 401, { error: 'unauthorized' });
      }
      const { user } = await answer.json();
      req.headers['x-user'] = String(user);
      return req;
    } catch {
      return reply(req, 503, { error: 'auth unavailable' });
    }
  }

  const checked = (req) =>
    new Observable((subscriber) => {
      const abort = new AbortController();
      void check(req, abort.signal).then((result) => {
        subscriber.next(result);
        subscriber.complete();
      });
      return () => abort.abort();
    });

  return { request: (request$) => request$.pipe(mergeMap(checked)) };
};
