/** A token (RFC 9110 5.6.2): what a method, a field name or an extension name is made of. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Which character codes a token may hold, for loops that read text a character at a time. */
export const TOKEN_CHARS = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  TOKEN_CHARS[code] = TOKEN.test(String.fromCharCode(code)) ? 1 : 0;
}

/** A character a field value may not hold: only tab, visible ASCII, space and obs-text may. */
export const INVALID_FIELD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
