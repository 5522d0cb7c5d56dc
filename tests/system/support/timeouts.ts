// Builds and network round trips on real daemons; no assertion depends on time.
jest.setTimeout(120_000);
