// @ts-check
const { builtinModules } = require('node:module');
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const globals = require('globals');

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries and
// no activity implementations (only `import type` of them, as in Temporal's samples).
const workflowRestrictions = {
  paths: [
    ...builtinModules.map((name) => ({
      name,
      message: 'Workflows are deterministic: Node built-ins are not allowed. Do the work in an activity.',
    })),
    ...['stripe', '@segment/analytics-node', 'openai', 'express', 'pino', 'jsonata', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'].map((name) => ({
      name,
      message: 'Workflows are deterministic: I/O libraries belong in activities.',
    })),
  ],
  patterns: [
    { group: ['node:*'], message: 'Workflows are deterministic: Node built-ins are not allowed.' },
    {
      group: ['**/activities', '**/activities/*'],
      allowTypeImports: true,
      message: 'Workflows may only `import type` activities; call them through proxyActivities.',
    },
  ],
};

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests poke at fixture JSON freely.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', workflowRestrictions],
    },
  },
);
