# The web front for deploy/k8s: the built SPA behind nginx with deploy/nginx/motcua.conf (the routing and headers
# `make run`'s gateway mirrors). nginx-unprivileged runs as uid 101, listens on 8080 and keeps its pid and
# temporary files under /tmp, so the pod runs with a read-only root filesystem and an emptyDir on /tmp.
# Build from the repository root: docker build -f deploy/docker/web.Dockerfile -t motcua-web .
FROM node:20-slim AS spa
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend ./
RUN npm run build

FROM nginxinc/nginx-unprivileged:1.27-alpine
COPY deploy/nginx/motcua.conf /etc/nginx/conf.d/default.conf
COPY --from=spa /src/frontend/dist /srv/motcua
USER 101
EXPOSE 8080
