// A/B pinning by cookie: `ab=a` goes to server1, `ab=b` to server2. A client without the
// cookie is given a variant (alternately a and b), and its response sets the cookie so that
// it stays on that variant. The choice travels from the request hook to the response hook in
// `req.meta`. A pinned server that is down answers 503: the variant is not silently switched.
module.exports = ({ rxjs: { map } }) => {
  const serverOf = { a: 'server1', b: 'server2' };
  let assigned = 0;

  const variantIn = (cookie) => {
    const header = Array.isArray(cookie) ? cookie.join('; ') : (cookie ?? '');
    return /(?:^|;)\s*ab=(a|b)\s*(?:;|$)/.exec(header)?.[1];
  };

  const pin = (req) => {
    let variant = variantIn(req.headers.cookie);
    if (variant === undefined) {
      variant = assigned++ % 2 === 0 ? 'a' : 'b';
      req.meta.newVariant = variant;
    }
    req.meta.variant = variant;
    req.backend = serverOf[variant];
    return req;
  };

  const remember = (res) => {
    const variant = res.request.meta.newVariant;
    if (variant === undefined) return res;
    const cookie = `ab=${variant}; Path=/; HttpOnly; SameSite=Lax`;
    const existing = res.headers['set-cookie'] ?? [];
    res.headers['set-cookie'] = [].concat(existing, cookie); // keep the backend's cookies
    return res;
  };

  return {
    request: (request$) => request$.pipe(map(pin)),
    response: (response$) => response$.pipe(map(remember)),
  };
};
