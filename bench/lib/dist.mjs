import { createRequire } from 'node:module';

/**
 * CommonJS `require` for the benchmarks: the compiled service is CommonJS, and a package used with
 * it (kysely's `sql`) must be the instance it loads.
 */
export const require = createRequire(import.meta.url);

/** A module of the compiled service (npm run build), by its path under dist/src/; required by a computed path, so tsc checks the benchmark and not dist/. */
export const dist = (file) => require(`../../dist/src/${file}`);
