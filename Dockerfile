# syntax=docker/dockerfile:1
# The ledger service image: `docker build -t ledger .` then see docker-compose.yml.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: all dependencies, compile TypeScript to dist/ -------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# .npmrc first: it tells onnxruntime-node not to download its CUDA binaries during npm ci.
COPY .npmrc package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The web console (console/, built by vite into dist/console) ships in dist/ with the service.
COPY console ./console
RUN npm run build

# --- deps: production dependencies only ---------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY .npmrc package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# --- runtime ------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    LEDGER_DATA_DIR=/var/lib/ledger
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
# Read at run time: SQL migrations (applied at start) and the shipped fraud model.
COPY migrations ./migrations
COPY models ./models
# The embedded PGlite (used only when DATABASE_URL is unset) writes to LEDGER_DATA_DIR.
RUN mkdir -p /var/lib/ledger && chown node:node /var/lib/ledger
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/main.js"]
