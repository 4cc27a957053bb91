# agentbox guest image: the init container of pods whose template carries
# `agentbox.dev/inject-guest: <this image>` copies /agentbox into an emptyDir at /opt/agentbox
# (see src/k8s/extensions/guest-injection.ts). The bundle is the same self-contained directory the
# single-node engine bind-mounts (src/guest/bundle.ts): node, tini, libraries, guest.mjs.
# Build from the repository root after `npm ci`:
#   node --import tsx -e "import('./src/guest/bundle.ts').then(async m => { const b = await m.ensureGuestBundle(); console.log(b.dir) })" > /tmp/guest-dir
#   cp -a "$(cat /tmp/guest-dir)" deploy/docker/guest-bundle
#   docker build -f deploy/docker/guest.Dockerfile -t agentbox/guest:0.1.0 .
FROM debian:bookworm-slim
COPY deploy/docker/guest-bundle/ /agentbox/
USER 65532:65532
CMD ["/bin/sh", "-c", "echo 'agentbox guest image: used as an init container'"]
