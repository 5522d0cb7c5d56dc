// The medium tier's databases are @berth/data's test databases: one migrated template per run, a clone each.
export { cloneTestDatabase as freshDatabase, type TestDatabase } from '@berth/data/testing';
