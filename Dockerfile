# syntax=docker/dockerfile:1

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src/ ./src/
# The prepare script runs the TypeScript build, so sources must be present first.
RUN npm ci --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: prepare would try to build without typescript installed.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# dist/ must sit next to package.json: the CLI reads ../package.json for its version.
COPY --from=build /app/dist ./dist
# Mount the configuration at /prod/reverse-proxy-config.ini.
RUN mkdir -p /prod && chown node:node /prod
USER node
ENV RXPROXY_CONFIG=/prod/reverse-proxy-config.ini
EXPOSE 8080
# /livez on the admin listener when [admin] port is set, else a connection to the front door.
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
  CMD ["node", "dist/cli.js", "--healthcheck"]
# Exec form: node is PID 1 and handles SIGTERM/SIGINT itself (graceful drain).
# --max-semi-space-size=4: V8's young generation stays at 2 x 4 MiB instead of growing to 2 x 16
# MiB under load, which holds idle WebSockets' memory down. --v8-pool-size=1: one V8 helper
# thread instead of four; a proxy runs a process per core (docs/decisions.md, "Memory").
CMD ["node", "--max-semi-space-size=4", "--v8-pool-size=1", "dist/cli.js"]
