#!/usr/bin/env node
'use strict';
// The `stripe-segment` command. Runs the compiled CLI in dist/ (built by `npm install` / `npm run build`).
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'cli', 'index.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('stripe-segment: dist/ is missing. Run `npm run build` (or `npm start`, which builds it) first.\n');
  process.exit(1);
}
require(entry).main();
