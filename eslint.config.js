import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'training/**', '.kafka-local/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    // Sources import './x.js' for the './x.ts' beside them (NodeNext): the resolver must map the one to the other,
    // or import rules (no-cycle, no-restricted-paths) see nothing to check.
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'], extensionAlias: { '.js': ['.ts', '.js'] } })] },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': ['error', { maxDepth: Infinity }],
      'import-x/no-default-export': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Only the composition root (src/cli) reads process.env; pass config down instead.',
        },
      ],
    },
  },
  {
    // The Kafka port: only its adapters know a Kafka client library.
    files: ['src/**/*.ts'],
    ignores: ['src/kafka/kafkajs/**', 'src/kafka/platformatic/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'kafkajs', message: 'Use the Kafka port (src/kafka/port.ts); only src/kafka/kafkajs/ imports kafkajs.' },
            { name: '@platformatic/kafka', message: 'Use the Kafka port (src/kafka/port.ts); only src/kafka/platformatic/ imports @platformatic/kafka.' },
          ],
        },
      ],
    },
  },
  {
    // Dependencies point inward: the scoring parts know nothing of transports, the loop or the composition root;
    // the pipeline core and backfill know no transport either. (test/unit/lint/layering.test.ts shows a violation fails.)
    files: ['src/**/*.ts'],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: ['./src/features', './src/codec', './src/batching', './src/inference', './src/contract', './src/evaluation'],
              from: ['./src/kafka', './src/http', './src/ingest', './src/publish', './src/cli', './src/service', './src/backfill', './src/pipeline', './src/monitor'],
              message: 'features, codecs, the batcher, inference and the contract stay free of transports and callers: pass what they need in.',
            },
            {
              target: ['./src/pipeline', './src/backfill', './src/monitor'],
              from: ['./src/http', './src/ingest', './src/publish', './src/cli', './src/service'],
              message: 'the scoring core, backfill and the outcome join are called by the transports, never the other way round.',
            },
            {
              target: ['./src/ingest', './src/http', './src/publish', './src/kafka', './src/registry', './src/metrics', './src/monitor'],
              from: ['./src/cli', './src/service'],
              message: 'only the composition root (src/cli) and the service wire the parts together.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli/**', 'test/**', 'scripts/**', 'bench/**', 'vitest.config.ts', 'eslint.config.js'],
    rules: { 'no-restricted-syntax': 'off', 'import-x/no-default-export': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly' },
    },
  },
);
