// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'chart/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      complexity: ['error', 25],
    },
  },
  // Layout boundaries: render/ is the pure engine, common/ is shared by controller and dispatchers,
  // and dispatchers meet the controller only at the env contract.
  ...[
    { files: ['dispatchers/**'], banned: ['controller', 'render', 'cli'] },
    { files: ['render/**'], banned: ['controller', 'dispatchers', 'cli'], packages: ['@kubernetes/client-node'] },
    { files: ['common/**'], banned: ['controller', 'dispatchers', 'render', 'cli'] },
    { files: ['controller/**'], banned: ['dispatchers', 'cli'] },
  ].map(({ files, banned, packages = [] }) => ({
    files,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: packages.map((name) => ({ name, message: `${files[0]} must not use ${name}` })),
          patterns: [{ group: banned.map((folder) => `**/${folder}/*`), message: `${files[0]} must not import from ${banned.join('/, ')}/ (see README "Development")` }],
        },
      ],
    },
  })),
  {
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/explicit-module-boundary-types': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      complexity: 'off',
    },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
