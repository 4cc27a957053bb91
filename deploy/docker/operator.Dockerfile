# agentbox operator and router image (`agentbox operator`, `agentbox router`).
# Build from the repository root:  docker build -f deploy/docker/operator.Dockerfile -t agentbox/operator:0.1.0 .
#
# The image ships the bundled build only (npm run build → dist/): no TypeScript compiled at run
# time, no node_modules (the operator and router use no native addon), so it starts in a fraction
# of the time and memory of the tsx sources. bin/agentbox.mjs runs dist/ when src/ is absent.
FROM node:20-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY scripts/build.mjs scripts/build-console.mjs ./scripts/
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /opt/agentbox
COPY package.json ./
COPY bin ./bin
COPY --from=build /build/dist ./dist
USER 65532:65532
ENTRYPOINT ["node", "/opt/agentbox/bin/agentbox.mjs"]
CMD ["operator", "--extensions"]
