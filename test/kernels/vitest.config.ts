// vitest config for runs inside the kernel-matrix guest (test/kernels/guest.sh) and for the host
// run that compiles the objects the guest then loads. No global setup: dist/ is built on the host
// before the guest boots, and the guest's view of the checkout is a throwaway overlay.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/kernel/**/*.test.ts', 'test/kernels/**/*.test.ts'],
    pool: 'forks',
    // The guest may run under software emulation (TCG): everything is several times slower.
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
});
