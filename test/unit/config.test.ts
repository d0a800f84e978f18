import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, resolveWebhookSecrets, secretForDisplay } from '../../src/config';

describe('config', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.TEMPORAL_NAMESPACE).toBe('default');
    expect(c.TEMPORAL_TASK_QUEUE).toBe('stripe-segment');
    expect(c.SEGMENT_HOST).toBe('https://api.segment.io');
    expect(c.embeddedTemporal).toBe(true);
    expect(c.temporalAddress).toBe('127.0.0.1:7233');
    expect(c.recipesDir).toBe(path.resolve('recipes'));
  });

  it('gives the embedded server durable WAL pragmas by default, and checks overrides', () => {
    expect(loadConfig({}).TEMPORAL_SQLITE_PRAGMAS).toEqual(['journal_mode=wal', 'synchronous=full']);
    expect(loadConfig({ TEMPORAL_SQLITE_PRAGMAS: 'synchronous=normal' }).TEMPORAL_SQLITE_PRAGMAS).toEqual(['synchronous=normal']);
    expect(() => loadConfig({ TEMPORAL_SQLITE_PRAGMAS: 'drop table x' })).toThrow(/TEMPORAL_SQLITE_PRAGMAS: pragmas are comma-separated PRAGMA=VALUE pairs/);
  });

  it('uses TEMPORAL_ADDRESS instead of an embedded server', () => {
    const c = loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233' });
    expect(c.embeddedTemporal).toBe(false);
    expect(c.temporalAddress).toBe('temporal:7233');
  });

  it('names every bad variable, with its value, in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'abc', SEGMENT_HOST: 'not a url', OPENAI_BASE_URL: 'localhost:1234' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/PORT: .*"abc"/);
    expect(message).toMatch(/SEGMENT_HOST: must be an absolute http\(s\) URL/);
    expect(message).toMatch(/OPENAI_BASE_URL/);
    expect((error as ConfigError).problems).toHaveLength(3);
  });

  it('treats an empty variable as unset, as docker compose passes `${VAR:-}`', () => {
    const c = loadConfig({ OPENAI_BASE_URL: '', STRIPE_API_BASE: ' ', PORT: '', OPENAI_API_KEY: '' });
    expect(c.OPENAI_BASE_URL).toBeUndefined();
    expect(c.STRIPE_API_BASE).toBeUndefined();
    expect(c.PORT).toBe(3000);
    expect(c.OPENAI_API_KEY).toBeUndefined();
  });

  it('splits comma-separated webhook secrets for rotation', () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ss-cfg-'));
    expect(resolveWebhookSecrets({ STRIPE_WEBHOOK_SECRET: 'whsec_a, whsec_b', dataDir })).toEqual({ secrets: ['whsec_a', 'whsec_b'] });
  });

  it('generates a secret once, keeps it in DATA_DIR (mode 600) and reuses it', () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ss-cfg-'));
    const first = resolveWebhookSecrets({ STRIPE_WEBHOOK_SECRET: undefined, dataDir });
    expect(first.secrets[0]).toMatch(/^whsec_[A-Za-z0-9_-]{32}$/);
    expect(first.generatedFile).toBe(path.join(dataDir, 'stripe-webhook-secret'));
    expect(readFileSync(first.generatedFile!, 'utf8').trim()).toBe(first.secrets[0]);
    expect(statSync(first.generatedFile!).mode & 0o777).toBe(0o600);
    const again = resolveWebhookSecrets({ STRIPE_WEBHOOK_SECRET: undefined, dataDir });
    expect(again.secrets).toEqual(first.secrets);
    // Shown whole only by the start that generated it; a kept one may be a real endpoint's secret.
    expect(secretForDisplay(first)).toBe(first.secrets[0]);
    expect(again.generatedNow).toBeUndefined();
    expect(secretForDisplay(again)).toBe(`whsec_…${first.secrets[0]!.slice(-4)}`);
    expect(secretForDisplay(again)).not.toContain(first.secrets[0]!.slice(6, -4));
    expect(secretForDisplay({ secrets: ['whsec_short1234'] })).toBe('whsec_…');
  });
});
