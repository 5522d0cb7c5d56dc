// For medium tests against real PostgreSQL (beside @berth/data's and @berth/control's modules, and tests/medium):
// a migrated database of their own, and rows made through the modules' own inserts.
export * from './fixtures';
export * from './fresh-database';
