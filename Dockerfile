# Multi-stage: the build stage type-checks (tests included) and compiles to dist/ with the dev
# dependencies; the final stage carries production dependencies and dist/ only, runs no TypeScript
# at start-up and runs as the unprivileged `node` user.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` builds, and the sources are not copied yet (this layer caches the install)
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
COPY ops ./ops
COPY test ./test
RUN npx tsc --noEmit && npm run build

FROM node:24-bookworm-slim
# LOG_FORMAT=json: JSON lines even under `docker run -t`, where stdout is a terminal
ENV NODE_ENV=production LOG_FORMAT=json HOST=0.0.0.0 PORT=3000 DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile, but the compiler is a dev dependency; dist/ comes from the build stage
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# what `npm start` runs (node with package.json's config.nodeFlags), without npm in between: node is
# PID 1 and gets `docker stop`'s SIGTERM itself
CMD ["node", "--enable-source-maps", "--max-semi-space-size=24", "--heap-growing-percent=100", "dist/server.js"]
