# One Strata node per container. docker-compose.yml runs six of them as the
# same 3-master/3-replica cluster as `npm run cluster`, and forms it with
# scripts/cluster.mjs --join-only (also in this image).

# Build: dev dependencies (TypeScript) and tsc's output in /app/dist.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY sim ./sim
RUN npm run build

# Run: production dependencies, the compiled server and the cluster launcher.
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY scripts ./scripts
RUN mkdir -p /data
# Client port and cluster bus port (client port + 10000).
EXPOSE 6379 16379
# Alone (`docker run -p 6379:6379 strata`) a node listens on every interface;
# docker-compose.yml replaces these arguments with the cluster's.
CMD ["node", "/app/dist/src/bin/strata-server.js", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/data"]
