#!/usr/bin/env node
'use strict';
// Baseline 3 of bench/run.js: the handler every peer writes. It verifies the signature, maps the
// event with the same recipes (same messages), hands them to analytics-node and answers 200 at
// once: nothing durable, so a crash loses whatever is in memory. The upper bound of any design.
//   PORT=… SECRET=… SEGMENT_HOST=… node bench/no-durability.js
const http = require('node:http');
const path = require('node:path');
const Stripe = require('stripe');
const { Analytics } = require('@segment/analytics-node');
const { loadRecipes } = require('../dist/recipes/loader');
const { dryRun } = require('../dist/recipes/dry-run');

const recipes = loadRecipes(path.resolve(__dirname, '..', 'recipes'), { openai: false, defaultModel: 'none' });
const analytics = new Analytics({ writeKey: 'no-durability', host: process.env.SEGMENT_HOST, flushInterval: Number(process.env.FLUSH_INTERVAL_MS ?? 50), maxEventsInBatch: 100 });
const secret = process.env.SECRET;

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const event = Stripe.webhooks.constructEvent(Buffer.concat(chunks), req.headers['stripe-signature'], secret);
      for (const recipe of recipes.forEventType(event.type)) {
        const result = await dryRun(recipe, event, {});
        for (const step of result.steps) {
          if (!step.message) continue;
          const { type, ...message } = step.message;
          analytics[type](message);
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    } catch (err) {
      res.writeHead(400).end(JSON.stringify({ error: err.message }));
    }
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', async () => {
  server.close();
  await analytics.closeAndFlush({ timeout: 5000 });
  process.exit(0);
});
