# Kurier images. Build from the repository root:
#   docker build --target dispatcher        -t ghcr.io/kurier-dev/dispatcher:0.1.0 .
#   docker build --target dispatcher-pulsar -t ghcr.io/kurier-dev/dispatcher-pulsar:0.1.0 .
#   docker build --target controller        -t ghcr.io/kurier-dev/controller:0.1.0 .
# Node 24 everywhere (the same major the tests run on). Runtime images are distroless, run as
# UID 65532 and need no writable root filesystem.

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY cli cli
COPY common common
COPY render render
COPY controller controller
COPY dispatchers dispatchers
# One minified ESM bundle (dist/kurier.mjs): ~35 MB less resident memory than loading
# @kubernetes/client-node's ~2,700 modules one by one. pulsar-client stays external.
RUN npm run build:bundle

FROM node:24-bookworm-slim AS pulsar-client
WORKDIR /src
# The native Pulsar client is the only native dependency and lives only in the Pulsar image.
RUN npm init -y >/dev/null && npm install --no-audit --no-fund --allow-scripts=pulsar-client pulsar-client@^1.18.0

FROM gcr.io/distroless/nodejs24-debian12:nonroot AS dispatcher
WORKDIR /app
# The source map is shipped for debugging: NODE_OPTIONS=--enable-source-maps (costs ~90 MB RSS).
COPY --from=build /src/dist/kurier.mjs /src/dist/kurier.mjs.map dist/
COPY templates templates
COPY crd.yaml ./
USER 65532:65532
EXPOSE 9090

ENTRYPOINT ["/nodejs/bin/node", "/app/dist/kurier.mjs"]
CMD ["dispatch", "nats"]

FROM dispatcher AS dispatcher-pulsar
COPY --from=pulsar-client /src/node_modules node_modules
CMD ["dispatch", "pulsar"]

FROM dispatcher AS controller
# Heap limits that keep 1,000 triggers under 150 MB RSS (bench/controller); raise
# --max-old-space-size for much larger clusters (chart value nodeOptions).
ENV NODE_OPTIONS="--max-semi-space-size=2 --max-old-space-size=192" MALLOC_ARENA_MAX=2
CMD ["controller", "--templates", "/etc/kurier/templates"]
