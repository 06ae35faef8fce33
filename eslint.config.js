// Why: the harness is promise-heavy (QMP, the guest agent, netlink, child processes), and
// a promise nobody awaits or catches turns into an unhandled rejection that kills the
// whole suite minutes later. typescript-eslint's type-checked rules catch those at lint
// time. test/unit/lint.test.ts runs this config, so `npm test` (and CI) fails on findings.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Promise rules that hold everywhere, tests included. */
const promiseRules = {
  '@typescript-eslint/no-floating-promises': [
    'error',
    {
      // tap queues t.test()/t.skip()/t.todo() itself and reports a failing subtest as a
      // failure; their promise never rejects, so they need no await. Everything else does.
      allowForKnownSafeCalls: [{ from: 'package', package: '@tapjs/test', name: ['test', 'skip', 'todo'] }],
    },
  ],
  '@typescript-eslint/no-misused-promises': 'error',
  '@typescript-eslint/await-thenable': 'error',
  '@typescript-eslint/return-await': ['error', 'error-handling-correctness-only'],
};

const unusedVars = [
  'error',
  { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
];

export default tseslint.config(
  {
    ignores: ['dist/**', 'build/**', 'node_modules/**', 'results/**', '.tap/**', 'kernel-patches/**'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      // src/ is covered by ./tsconfig.json, test/ by test/tsconfig.json.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      ...promiseRules,
      '@typescript-eslint/no-unused-vars': unusedVars,
      '@typescript-eslint/require-await': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // Tests: the promise rules stay errors; the any-flow rules are relaxed because tests
    // poke at parsed JSON and tap's loosely typed assertion results on purpose.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/require-await': 'off',
      'no-console': 'off',
    },
  },
  {
    // Plain Node scripts and this file: no type information, node globals.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      sourceType: 'module',
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    rules: { 'no-unused-vars': unusedVars },
  },
);
