// src/ and dist/ both sit one level below package.json, so this path holds in either.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../package.json') as { version: string };

export const VERSION: string = pkg.version;
/** Named in the context of every Segment call. */
export const INTEGRATION = { name: 'stripe-segment', version: VERSION } as const;
