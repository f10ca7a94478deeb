/** The live dashboard served at the admin listener's `/`. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rxproxy</title></head>
<body><h1>rxproxy</h1><p><a href="status">status</a> · <a href="metrics">metrics</a></p></body></html>
`;
