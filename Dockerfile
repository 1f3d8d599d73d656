# meshmedic operator image.
#   docker build -t meshmedic:0.1.0 .
#   docker run --rm meshmedic:0.1.0 --version
#
# node:26-slim: the project pins Node 26 (the `node` devDependency, package.json), and Node 26 is the
# current LTS line (Active LTS since October 2026), so build and runtime use the same major as every
# test run. -slim (Debian) rather than -alpine: the official glibc build the tests ran on.
ARG NODE_IMAGE=node:26-slim

# ---- build: compile TypeScript to dist/ ----------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: skips the `prepare` script (it builds, and the sources are not copied yet) and the
# install script of the `node` devDependency, which would download a second Node binary: this image is
# already Node 26. Without that script npm links no node_modules/.bin/node; the rm makes sure no shim can
# shadow the image's node in npm scripts.
RUN npm ci --ignore-scripts --no-audit --no-fund && rm -f node_modules/.bin/node
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: dist, CRDs and production dependencies only --------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only (no TypeScript, vitest, eslint, nor the `node` devDependency: nothing at
# runtime needs them). No production dependency has an install script; --ignore-scripts also skips
# `prepare`, which would try to build.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY crds ./crds
# The image's `node` user, numeric so that Kubernetes' runAsNonRoot can verify it (deploy/deployment.yaml
# also sets runAsUser: 1000). Files stay root-owned and read-only to it.
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["run"]
