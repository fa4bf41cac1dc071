// @ts-check
const eslint = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  {
    ignores: [
      'node_modules/',
      // Generated entries and scratch projects (tests, bench) of the local cloud.
      '.shardflow/',
      'cdk.out/',
      'coverage/',
      'dist/',
      '*.tgz',
      '**/*.js',
      '!localstack/cli/bin.js',
      '!test/runProjects.js',
      '!localstack/console/static/*.js',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // The console page's scripts run in the browser as ES modules, unbundled (no build step).
    files: ['localstack/console/static/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: { window: 'readonly', document: 'readonly', fetch: 'readonly', setTimeout: 'readonly' },
    },
  },
  {
    // One concept per file (functions/core/README.md): a file of the product code past 400 lines holds more.
    files: ['functions/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 400 }] },
  },
  {
    // The engine core is pure: no AWS SDK, no Lambda types at runtime, no environment, no wall clock.
    files: ['functions/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '@aws-sdk/*',
            '@smithy/*',
            'aws-lambda',
            '@aws-lambda-powertools/*',
            'aws-cdk-lib',
            'aws-cdk-lib/*',
            'fs',
            'node:fs',
            'child_process',
            'node:child_process',
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Time is the event time or an injected Clock.' },
        { object: 'process', property: 'env', message: 'The core takes configuration as arguments.' },
      ],
    },
  },
);
