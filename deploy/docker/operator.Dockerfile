# agentbox operator and router image (`agentbox operator`, `agentbox router`).
# Build from the repository root:  docker build -f deploy/docker/operator.Dockerfile -t agentbox/operator:0.1.0 .
FROM node:20-bookworm-slim
WORKDIR /opt/agentbox
# agentbox runs its TypeScript through tsx (no build step), so dev dependencies stay;
# install scripts are not needed by the operator (native addons are for the engine only).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY src ./src
USER 65532:65532
ENTRYPOINT ["node", "/opt/agentbox/bin/agentbox.mjs"]
CMD ["operator", "--extensions"]
