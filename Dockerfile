# Kurier images. Build from the repository root (`make images` builds all three):
#   docker build --target dispatcher        -t ghcr.io/kurier-dev/dispatcher:0.1.0 .
#   docker build --target controller        -t ghcr.io/kurier-dev/controller:0.1.0 .
#   docker build --target dispatcher-pulsar -t ghcr.io/kurier-dev/dispatcher-pulsar:0.1.0 .
# Node 24 everywhere (the same major the tests run on). Runtime images are distroless, run as
# UID 65532 and need no writable root filesystem. The Pulsar stages come last: the classic
# builder builds every stage above the target, so the dispatcher and controller images never
# need the native Pulsar client's download (docs/install.md "Images").

FROM node:24-bookworm-slim AS build
# true: ship a .map beside every file of dist/ (run with NODE_OPTIONS=--enable-source-maps; costs ~100 MB RSS).
# Names are kept in the bundle either way, so stack traces and error types read without it.
ARG SOURCE_MAP=false
WORKDIR /src
COPY package.json package-lock.json ./
# Only what the bundle needs: the runtime dependencies plus esbuild at the lockfile's version, no
# other dev tools (the `node` devDependency alone would add a second Node binary). No install script
# is needed: esbuild's binary is a package of its own.
RUN npm ci --no-audit --no-fund --ignore-scripts --omit=dev \
 && npm install --prefix /tools --no-audit --no-fund --ignore-scripts --no-save \
      "esbuild@$(node -p "require('./package-lock.json').packages['node_modules/esbuild'].version")"
ENV PATH=/tools/node_modules/.bin:$PATH
COPY tsconfig.json ./
COPY cli cli
COPY common common
COPY render render
COPY controller controller
COPY dispatchers dispatchers
# A split ESM bundle, minified in whitespace and syntax only: identifiers keep their source names, so
# stack frames and logged error types read as in the source without --keep-names, whose __name()
# call on every closure created cost the dispatcher ~5 µs per message. The entry dist/kurier.mjs plus
# dist/kurier-*.mjs chunks, each loaded only by the command that needs it, so a dispatcher never
# compiles the controller, the Kubernetes client or another broker's client (idle RSS 69–70 MB
# instead of 110 MB with one file; far less than loading @kubernetes/client-node's ~2,700 modules
# one by one). pulsar-client stays external.
# dist/ holds nothing else here: the runtime stages copy all of it.
RUN if [ "$SOURCE_MAP" = true ]; then npm run build:bundle -- --sourcemap; else npm run build:bundle; fi

FROM gcr.io/distroless/nodejs24-debian12:nonroot AS dispatcher
WORKDIR /app
COPY --from=build /src/dist/ dist/
COPY templates templates
COPY crd.yaml ./
USER 65532:65532
EXPOSE 9090
# The heap follows the container's memory limit (60 % of it: 154 MiB of the template's 256Mi),
# leaving room for buffers and code; set NODE_OPTIONS through spec.deployment to change it.
# (--max-old-space-size-percentage needs Node >= 24.6, which the nodejs24 base image tracks.)
ENV NODE_OPTIONS="--max-old-space-size-percentage=60" MALLOC_ARENA_MAX=2
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/kurier.mjs"]
CMD ["dispatch", "nats"]

FROM dispatcher AS controller
# Heap limits that keep 1,000 triggers under 150 MB RSS (bench/controller); raise
# --max-old-space-size for much larger clusters (chart value nodeOptions).
ENV NODE_OPTIONS="--max-semi-space-size=2 --max-old-space-size=192" MALLOC_ARENA_MAX=2
# The bundled templates; the chart mounts its ConfigMap and passes --templates=/etc/kurier/templates.
CMD ["controller", "--templates", "/app/templates"]

FROM node:24-bookworm-slim AS pulsar-client
# The native Pulsar client, pinned: pulsar-client's version (and its dependencies') is locked in
# docker/pulsar-client/package-lock.json; its prebuilt addon comes from the Apache archive for that
# version, checked against PULSAR_CLIENT_BINARY_SHA512 (empty: the .sha512 file Apache publishes
# next to it). No install scripts run and nothing is compiled; without the archive this stage fails
# and names the URL and the build arguments below.
ARG PULSAR_CLIENT_BINARY_HOST=https://archive.apache.org/dist/pulsar/pulsar-client-node/
ARG PULSAR_CLIENT_BINARY_SHA512=
WORKDIR /src
COPY docker/pulsar-client/package.json docker/pulsar-client/package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts --omit=dev
COPY docker/pulsar-native.js /usr/local/lib/pulsar-native.mjs
# NODE_USE_ENV_PROXY: fetch honours the HTTPS_PROXY/NO_PROXY build arguments, as npm does.
RUN NODE_USE_ENV_PROXY=1 node /usr/local/lib/pulsar-native.mjs node_modules/pulsar-client \
 && node node_modules/pulsar-client/GenCertFile.js \
 && node -e "const p = require('pulsar-client'); if (typeof p.Client !== 'function') process.exit(1)"

FROM dispatcher AS dispatcher-pulsar
COPY --from=pulsar-client /src/node_modules node_modules
CMD ["dispatch", "pulsar"]
