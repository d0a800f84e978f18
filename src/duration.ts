/** "1d", "36h", "90m", "30s": the one duration syntax of recipes, config and the CLI. */
export const DURATION = /^(\d+)(d|h|m|s)$/;
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;

/** "1d", "36h", "90m", "30s" → milliseconds. */
export function durationMs(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
