// One SWC configuration for the build and for Jest, so tests run the code as it ships.
// Type checking is tsc's job (`npm run typecheck`); SWC only strips types and emits CommonJS.
'use strict';

/** @param {{ sourceMaps?: boolean | 'inline' }} [opts] */
function swcOptions(opts = {}) {
  return {
    sourceMaps: opts.sourceMaps ?? true,
    module: {
      type: 'commonjs',
      // Keep `import()` as a real dynamic import so ESM-only packages (@unraid/libvirt) load.
      ignoreDynamic: true,
    },
    jsc: {
      target: 'es2023',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      keepClassNames: true,
    },
  };
}

module.exports = { swcOptions };
