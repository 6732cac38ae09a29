import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file in its own process: BPF objects and links are released when it exits.
    pool: 'forks',
    testTimeout: 30_000,
    // One line per test, so a test skipped for a missing kernel feature says so by name.
    reporters: ['verbose'],
  },
});
