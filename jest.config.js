// Tiers, as in Immich: unit (pure logic, adapters faked), medium (real PostgreSQL and Redis), deploy (the
// set-up scripts from two checkouts), system (the built stack on the real daemons), e2e (the web console in a real
// browser) and faults. deploy/test.sh
// runs them in that order.
'use strict';
const { swcOptions } = require('./tools/swc-options.cjs');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias.replace('/', '\\/')}$`,
    `<rootDir>/${target.replace(/^\.\//, '')}`,
  ]),
);

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', swcOptions({ sourceMaps: 'inline' })] },
  // 'node' for native addons (@unraid/libvirt loads build/Release/libvirt.node without its extension).
  moduleFileExtensions: ['ts', 'js', 'json', 'node'],
  moduleNameMapper,
  setupFiles: ['reflect-metadata'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'medium',
      testMatch: ['<rootDir>/{apps,libs,tests}/**/*.medium.ts'],
      globalSetup: '<rootDir>/tests/medium/global-setup.ts',
      globalTeardown: '<rootDir>/tests/medium/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/tests/medium/timeouts.ts'],
    },
    {
      ...common,
      displayName: 'system',
      testMatch: ['<rootDir>/tests/system/**/*.system.ts'],
      globalSetup: '<rootDir>/tests/system/global-setup.ts',
      globalTeardown: '<rootDir>/tests/medium/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/tests/system/support/timeouts.ts'],
    },
    {
      // deploy/'s scripts as a user runs them, from two checkouts; before the testbed exists (test.sh).
      ...common,
      displayName: 'deploy',
      testMatch: ['<rootDir>/tests/deploy/**/*.deploy.ts'],
    },
    {
      // The web console in Debian's Chromium (playwright-core) against the built stack on the real daemons.
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/tests/e2e/**/*.e2e.ts'],
      globalSetup: '<rootDir>/tests/e2e/global-setup.ts',
      globalTeardown: '<rootDir>/tests/medium/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/tests/system/support/timeouts.ts'],
    },
    {
      // Fault injection on the built stack and the real daemons: kill -9, daemon restarts, load, bad input.
      ...common,
      displayName: 'faults',
      testMatch: ['<rootDir>/tests/faults/**/*.fault.ts'],
      globalSetup: '<rootDir>/tests/system/global-setup.ts',
      globalTeardown: '<rootDir>/tests/medium/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/tests/system/support/timeouts.ts'],
    },
  ],
};
