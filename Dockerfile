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
COPY tsconfig.json tsconfig.build.json ./
COPY cli cli
COPY controller controller
COPY dispatchers dispatchers
RUN npm run build && npm prune --omit=dev

FROM build AS pulsar-client
# The native Pulsar client is the only native dependency and lives only in the Pulsar image.
RUN npm install --no-save --no-audit --no-fund --allow-scripts=pulsar-client pulsar-client@^1.18.0

FROM gcr.io/distroless/nodejs24-debian12:nonroot AS dispatcher
WORKDIR /app
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
COPY package.json ./
COPY templates templates
USER 65532:65532
EXPOSE 9090
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/cli/kurier.js"]
CMD ["dispatch", "nats"]

FROM dispatcher AS dispatcher-pulsar
COPY --from=pulsar-client /src/node_modules node_modules
CMD ["dispatch", "pulsar"]

FROM dispatcher AS controller
COPY crd.yaml ./
CMD ["controller", "--templates", "/etc/kurier/templates"]
