import { defineConfig } from 'vitest/config';

// Tests inspect the kernel with system tools that Debian installs in sbin (bpftool, tc), which a
// bare PATH (`env -i`, `su` without `-`, a CI runner) lacks; tsbpf itself looks there for bpftool.
const sbin = ['/usr/local/sbin', '/usr/sbin', '/sbin'];
const path = (process.env.PATH ?? '').split(':').filter(Boolean);
process.env.PATH = [...path, ...sbin.filter((dir) => !path.includes(dir))].join(':');

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // koffi and real kernel objects live more comfortably in separate processes than in threads.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
