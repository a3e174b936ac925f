# One image for every component; SERVICES picks what a container runs (docker-compose.yml).
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund --ignore-scripts
COPY config ./config
COPY lib ./lib
COPY mixins ./mixins
COPY services ./services
COPY bin ./bin
COPY public ./public
COPY moleculer.config.ts ./
# Node 24 runs the TypeScript sources directly (type stripping); no build step.
CMD ["node", "bin/node.ts", "--no-repl"]
