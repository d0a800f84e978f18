import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** ESLint loads its config with dynamic import(), which Jest's VM cannot run: lint in a child Node. */
function lintTexts(cases: Array<{ code: string; file: string }>): string[][] {
  const script = `
    const { ESLint } = require('eslint');
    const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
    (async () => {
      const eslint = new ESLint({ cwd: process.cwd() });
      const out = [];
      for (const c of cases) {
        const [r] = await eslint.lintText(c.code, { filePath: c.file });
        out.push(r.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message));
      }
      process.stdout.write(JSON.stringify(out));
    })();`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, input: JSON.stringify(cases) }).toString());
}

// The ESLint rule that keeps workflow code deterministic: no Node built-ins, no I/O libraries,
// and activities by type only.
describe('workflow import rule', () => {
  const lint = async (code: string, file = 'src/workflows/probe.ts') => lintTexts([{ code, file }])[0]!;

  it.each([
    ["import { readFileSync } from 'fs';\nexport const x = readFileSync;", /Node built-ins/],
    ["import crypto from 'node:crypto';\nexport const x = crypto;", /Node built-ins/],
    ["import { createActivities } from '../activities';\nexport const x = createActivities;", /only `import type` activities/],
    ["import { createSegmentActivities } from '../activities/segment';\nexport const x = createSegmentActivities;", /only `import type` activities/],
    ["import Stripe from 'stripe';\nexport const x = Stripe;", /I\/O libraries belong in activities/],
  ])('refuses %s', async (code, message) => {
    const messages = await lint(code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(message);
  });

  it('allows type imports of activities and the workflow API', async () => {
    expect(await lint("import type { Activities } from '../activities';\nimport { sleep } from '@temporalio/workflow';\nexport type A = Activities;\nexport const s = sleep;")).toEqual([]);
  });

  it('applies only to workflow files', async () => {
    expect(await lint("import { readFileSync } from 'fs';\nexport const x = readFileSync;", 'src/activities/probe.ts')).toEqual([]);
  });
});
