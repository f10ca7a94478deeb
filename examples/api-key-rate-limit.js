// A rate limit per API key: each `x-api-key` may make 5 requests at once and 5 a second after
// that; over it the built-in answers 429 {"error":"rate limited"} with Retry-After. A request
// without a key gets 401 {"error":"api key required"} and never reaches the limiter.
module.exports = ({ rxjs: { map }, operators: { rateLimit, rateKey }, reply }) => ({
  request: [
    map((req) => (req.headers['x-api-key'] ? req : reply(req, 401, { error: 'api key required' }))),
    rateLimit({
      ratePerSecond: 5,
      burst: 5,
      key: rateKey({ source: 'header', name: 'x-api-key' }),
      maxKeys: 100_000,
    }),
  ],
});
