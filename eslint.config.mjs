// Lint holds the layering of docs/architecture.md: the control plane never touches a host, the host never
// opens the database, and the pure libraries stay pure. Zero warnings are allowed (`--max-warnings 0`).
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

const io = ['typeorm', 'pg', 'bullmq', 'ioredis', 'dockerode', '@nestjs/*', 'fastify', '@unraid/libvirt', 'ssh2'];
const nodeIo = ['fs', 'child_process', 'net', 'dgram', 'http', 'https', 'os', 'cluster', 'worker_threads'].flatMap(
  (m) => [m, `node:${m}`, `${m}/*`, `node:${m}/*`],
);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.nx/**', 'coverage/**', '.berth/**'] },
  ...nx.configs['flat/base'],
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // Nest injects constructor parameters by their runtime class: those imports must stay values.
      '@typescript-eslint/only-throw-error': 'error',
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          enforceBuildableLibDependency: false,
          depConstraints: [
            { sourceTag: 'scope:control', onlyDependOnLibsWithTags: ['scope:control', 'scope:shared'] },
            { sourceTag: 'scope:host', onlyDependOnLibsWithTags: ['scope:host', 'scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [], bannedExternalImports: io },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:contracts'], bannedExternalImports: io },
            { sourceTag: 'type:platform', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:queue', onlyDependOnLibsWithTags: ['type:contracts', 'type:platform'] },
            // Plain data access: rows in and out, no workflow, no queue, no HTTP.
            {
              sourceTag: 'type:data',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:platform'],
              bannedExternalImports: ['bullmq', 'ioredis', '@nestjs/*', 'fastify', 'dockerode', '@unraid/libvirt'],
            },
            // The control workflows: rows from @berth/data, rules from @berth/domain; never HTTP or NestJS.
            {
              sourceTag: 'type:control',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:platform', 'type:data'],
              bannedExternalImports: ['@nestjs/*', 'fastify', 'dockerode', '@unraid/libvirt', 'ssh2'],
            },
            {
              sourceTag: 'type:network',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:platform'],
              bannedExternalImports: ['typeorm', 'pg', '@nestjs/*', 'fastify'],
            },
            {
              sourceTag: 'type:cgroups',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:platform'],
              bannedExternalImports: ['typeorm', 'pg', '@nestjs/*', 'fastify'],
            },
            {
              // Host enrollment: the control plane's one way onto a host (SSH), before the host has an agent.
              sourceTag: 'type:enroll',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:platform'],
              bannedExternalImports: ['typeorm', 'pg', '@nestjs/*', 'fastify'],
            },
            {
              sourceTag: 'type:drivers',
              onlyDependOnLibsWithTags: [
                'type:contracts',
                'type:domain',
                'type:platform',
                'type:network',
                'type:cgroups',
              ],
              bannedExternalImports: ['typeorm', 'pg', '@nestjs/*', 'fastify'],
            },
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: [
                'type:contracts',
                'type:domain',
                'type:platform',
                'type:queue',
                'type:data',
                'type:control',
                'type:drivers',
                'type:network',
                'type:cgroups',
                'type:enroll',
              ],
            },
            // The CLI and its client know the API only: no control-plane or host code.
            { sourceTag: 'scope:client', onlyDependOnLibsWithTags: ['scope:client'] },
            {
              sourceTag: 'type:client',
              onlyDependOnLibsWithTags: [],
              bannedExternalImports: ['typeorm', 'pg', '@nestjs/*', 'fastify', 'bullmq', 'ioredis', 'dockerode'],
            },
            { sourceTag: 'type:cli', onlyDependOnLibsWithTags: ['type:client'] },
            // The web console, like the CLI, speaks the public API through the client only.
            { sourceTag: 'type:web', onlyDependOnLibsWithTags: ['type:client'] },
            { sourceTag: 'type:tests', onlyDependOnLibsWithTags: ['*'] },
          ],
        },
      ],
    },
  },
  {
    // The web console: React's rules of hooks, and no Node API (it runs in the browser).
    files: ['apps/web/src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: [...nodeIo, 'node:*'], message: 'the browser has no Node' }] },
      ],
    },
  },
  {
    // Pure libraries: no node I/O either (Nx's bannedExternalImports covers npm packages only).
    files: ['libs/domain/**/*.ts', 'libs/contracts/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: nodeIo, message: 'pure library: no I/O' }] }] },
  },
  {
    // No driver imports another driver (Nova's hacking rule): each reaches the others only through the registry.
    files: ['libs/drivers/src/docker/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['../fake/*', '../libvirt/*'] }] },
  },
  {
    files: ['libs/drivers/src/fake/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['../docker/*', '../libvirt/*'] }] },
  },
  {
    files: ['libs/drivers/src/libvirt/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['../docker/*', '../fake/*'] }] },
  },
  {
    // Only @berth/data writes SQL or rows: apps and workflows call its functions.
    files: ['apps/**/*.ts', 'libs/control/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.medium.ts', '**/*.system.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'CallExpression[callee.property.name=/^(query|createQueryBuilder)$/]',
          message: 'SQL belongs in @berth/data: add a function there and call it',
        },
        {
          selector: 'TemplateElement[value.raw=/\\b(SELECT|INSERT INTO|DELETE FROM|UPDATE [a-z_]+ SET)\\b/]',
          message: 'SQL belongs in @berth/data: add a function there and call it',
        },
        {
          selector: 'Literal[value=/\\b(SELECT|INSERT INTO|DELETE FROM|UPDATE [a-z_]+ SET)\\b/]',
          message: 'SQL belongs in @berth/data: add a function there and call it',
        },
        {
          // Reads through a TypeORM repository are fine; writes go through @berth/data's named functions.
          selector:
            'CallExpression[callee.property.name=/^(save|insert|update|upsert|delete|remove|softDelete|increment|decrement|clear)$/][callee.object.callee.property.name="getRepository"]',
          message: 'Writes belong in @berth/data: add a function there (insertEntity, deleteEntity) and call it',
        },
      ],
    },
  },
  {
    // Sizes that keep the code readable: a file over 400 lines or a function over 80 is split where it has seams.
    // Not for tests and benchmarks, generated code, or landed schema migrations (never edited once landed).
    files: ['apps/**/*.ts', 'apps/**/*.tsx', 'libs/**/*.ts'],
    ignores: [
      '**/*.spec.ts',
      '**/*.medium.ts',
      '**/*.system.ts',
      '**/generated/**',
      'libs/drivers/src/testing/**',
      'libs/data/src/schema/1*.ts',
    ],
    rules: {
      'max-lines': ['error', { max: 400 }],
      'max-lines-per-function': ['error', { max: 80 }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // CommonJS configuration files (jest.config.js, tools/*.cjs) load their helpers with require().
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['tools/**', 'bench/**', 'tests/**', '**/*.spec.ts', '**/*.medium.ts', '**/*.system.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // Test harnesses start apps in-process (createApiApp, migrate, PlacementService): the layering
    // rules hold production code, which never imports tests. Test assertions read JSON bodies.
    files: ['tests/**', 'bench/**', '**/*.spec.ts', '**/*.medium.ts', '**/*.system.ts'],
    rules: {
      '@nx/enforce-module-boundaries': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  prettier,
);
