import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import rxjsX from 'eslint-plugin-rxjs-x';
import prettier from 'eslint-config-prettier';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

// The benchmark's peers (fastify, http-proxy) live in bench/node_modules, installed only by
// `npm run bench`; the files that import them are linted once that install exists.
const benchPeersInstalled = existsSync(join(import.meta.dirname, 'bench', 'node_modules'));
const benchPeerFiles = benchPeersInstalled ? [] : ['bench/servers/*-target.ts'];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'bench/node_modules/**',
      'bench/results/**',
      ...benchPeerFiles,
    ],
  },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked, rxjsX.configs.recommended],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'rxjs-x/no-ignored-takewhile-value': 'error',
      'rxjs-x/no-unsafe-takeuntil': 'error',
      'rxjs-x/no-subject-value': 'error',
      'rxjs-x/no-topromise': 'error',
    },
  },
  {
    // RxJS's index loads every one of its modules (1.4 MiB more idle RSS): the proxy's sources
    // take what they use from src/rx.ts, which loads them one by one.
    files: ['src/**/*.ts'],
    ignores: ['src/rx.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'rxjs',
              message: 'Import from src/rx.ts, which loads only the RxJS modules the proxy uses.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: {
        module: 'writable',
        require: 'readonly',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
      },
    },
  },
  prettier,
);
