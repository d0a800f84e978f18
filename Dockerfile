# stripe-segment: one image, two roles (`api` and `worker`), chosen by the command.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle-workflows.js ./scripts/
# The compiled code and the pre-built workflow bundle (workers start without webpack).
RUN npx tsc -p tsconfig.build.json && node scripts/bundle-workflows.js

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: the only one is `prepare` (the TypeScript build), done in the build stage.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY recipes ./recipes
USER node
EXPOSE 3000
ENTRYPOINT ["node", "bin/stripe-segment.js"]
CMD ["api"]
