import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/net';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'stripe-segment.js');

/** Runs the compiled CLI; resolves with its exit code and output whatever the outcome. */
function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ss-cli-'));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, ...extraEnv }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

// Start-up refuses bad input with one message a person can act on, and starts nothing.
describe('CLI start-up errors', () => {
  it('names each bad variable', async () => {
    const r = await cli(['start'], { PORT: 'abc', SEGMENT_HOST: 'segment.example' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stripe-segment: Invalid configuration:');
    expect(r.stderr).toMatch(/- PORT: must be a port number \(got "abc"\)/);
    expect(r.stderr).toMatch(/- SEGMENT_HOST: must be an absolute http\(s\) URL/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses reconciliation without a Stripe API key, and a bad interval', async () => {
    const r = await cli(['worker'], { RECONCILE_INTERVAL: '15m', TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/- RECONCILE_INTERVAL: reconciliation lists events through the Stripe API; set STRIPE_API_KEY/);
    const bad = await cli(['worker'], { RECONCILE_INTERVAL: '30s', RECONCILE_LOOKBACK: '45d' });
    expect(bad.stderr).toMatch(/- RECONCILE_INTERVAL: must be at least 1m \(got "30s"\)/);
    expect(bad.stderr).toMatch(/- RECONCILE_LOOKBACK: must be 30d or less/);
  });

  it('says which port is in use when the ingress cannot listen', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as net.AddressInfo).port;
    const r = await cli(['api'], { PORT: String(port), HOST: '127.0.0.1', TEMPORAL_ADDRESS: '127.0.0.1:1' });
    busy.close();
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`stripe-segment: The ingress cannot listen: port ${port} on 127.0.0.1 is in use; set PORT to a free one.\n`);
  });

  it('names the recipe file, the field and the reason', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ss-cli-recipes-'));
    writeFileSync(
      path.join(dir, 'bad.json'),
      JSON.stringify({ id: 'bad', name: 'Bad', trigger: 'charge.failed', steps: [{ type: 'segment.identify', map: { userId: 'event.(' } }] }),
    );
    const r = await cli(['start'], { RECIPES_DIR: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^stripe-segment: Recipe error: bad\.json: steps\[0\]\.map\.userId: invalid JSONata expression/);
  });

  it('says how to provide the Temporal CLI when the given one is missing', async () => {
    const r = await cli(['start'], { TEMPORAL_CLI_PATH: '/nonexistent/temporal' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('TEMPORAL_CLI_PATH=/nonexistent/temporal is not an executable file.');
  });

  it('lists the available fixtures for an unknown test event type', async () => {
    const r = await cli(['send-test-event', 'charge.teleported']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no fixture for "charge\.teleported"; available: charge\.failed/);
  });

  it.each(['backfill --since 1h --concurrency abc', 'backfill --since 1h --concurrency 0', 'runs list --limit 2.5'])(
    'refuses a count that is not a whole number of at least 1: %s',
    async (command) => {
      const r = await cli(command.split(' '));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error: option '--(concurrency|limit) <n>' argument '.*' is invalid\. must be a whole number of at least 1/);
    },
  );

  it('says when nothing is listening for a test event', async () => {
    const url = `http://127.0.0.1:${await freePort()}/v1/webhooks/stripe`;
    const r = await cli(['send-test-event', 'charge.failed', '--url', url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`stripe-segment: Cannot reach ${url}: ECONNREFUSED. Is stripe-segment running (npm start)?\n`);
  });
});

describe('recipes commands', () => {
  const fixture = path.join(ROOT, 'src', 'catalog', 'fixtures', 'checkout.session.completed.json');

  it('`recipes list` shows each recipe with trigger, version and steps', async () => {
    const r = await cli(['recipes', 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^● checkout-completed\s+checkout\.session\.completed\s+[0-9a-f]{12}\s+segment\.track → segment\.identify$/m);
    expect(r.stdout.trim().split('\n')).toHaveLength(11);
  });

  it('`recipes validate` accepts the defaults and refuses a broken folder with the file, step and reason', async () => {
    expect((await cli(["recipes", "validate"])).stdout).toMatch(/^11 recipe\(s\) valid/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ss-cli-recipes-'));
    writeFileSync(path.join(dir, 'x.json'), JSON.stringify({ id: 'x', name: 'X', trigger: 'charge.failed', steps: [{ type: 'segment.track', map: { event: "'A' &" } }] }));
    const r = await cli(['recipes', 'validate', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^stripe-segment: Recipe error: x\.json: steps\[0\]\.map\.event: invalid JSONata expression/);
  });

  it('`recipes dry-run` prints the filter verdict and the exact Segment calls', async () => {
    const r = await cli(['recipes', 'dry-run', 'checkout-completed', '--event', fixture]);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ recipeId: 'checkout-completed', outcome: 'delivered' });
    expect(result.steps.map((s: any) => [s.message.type, s.message.event])).toEqual([
      ['track', 'Order Completed'],
      ['identify', undefined],
    ]);
    expect(result.steps[0].message.properties).toMatchObject({ total: 51.4, currency: 'EUR' });
  });

  it('`recipes dry-run` uses a provided lookup object', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ss-cli-lookup-'));
    const charge = path.join(dir, 'charge.json');
    writeFileSync(charge, JSON.stringify({ id: 'ch_1', customer: 'cus_from_lookup' }));
    const event = path.join(ROOT, 'src', 'catalog', 'fixtures', 'charge.dispute.created.json');
    const r = await cli(['recipes', 'dry-run', 'dispute-created', '--event', event, '--lookup', `charge=${charge}`]);
    const steps = JSON.parse(r.stdout).steps;
    expect(steps.find((s: any) => s.message?.event === 'Dispute Created').message).toMatchObject({ userId: 'cus_from_lookup' });
  });

  it('`recipes reload` says when no service is running', async () => {
    const r = await cli(['recipes', 'reload']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No running stripe-segment found \(.*stripe-segment\.pid is missing\)/);
  });
});
