# syntax=docker/dockerfile:1
# opportunity-scorer: the Kafka worker + HTTP sidecar. Two stages: build (all deps, tsc), then a runtime with
# production dependencies only, running as the unprivileged `node` user (uid 1000) on a read-only root filesystem.
#   docker build -t opportunity-scorer .
#   docker run --read-only -e KAFKA_BROKERS=broker:9092 -p 8080:8080 opportunity-scorer run

ARG NODE_IMAGE=node:22.23.3-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: "prepare" would build before the sources are here; onnxruntime-node ships its CPU binary.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# `npm run build` also renders the ReDoc page (dist/redoc.html) from the app's own OpenAPI document, which loads
# the event schemas.
COPY scripts/docs/redoc.ts ./scripts/docs/redoc.ts
COPY schemas ./schemas
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080 \
    LOG_FORMAT=json
WORKDIR /app
# Everything root-owned and read-only to the process: it writes nothing but logs to stdout.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY schemas ./schemas
COPY models ./models
COPY samples ./samples
USER node
EXPOSE 8080
# /health is liveness (the process answers); Kubernetes uses /ready for traffic. fetch is built into Node 22.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.HTTP_PORT}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains (readiness 503 → stop fetching → flush → publish → commit → leave group → close).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/opportunity-scorer.js"]
CMD ["run"]
