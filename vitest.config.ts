import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          // Every verdict checked against Istio's own config generator (the oracle, built by
          // `npm run testbed:build`): rule cases, examples, a generated mesh.
          name: 'differential',
          include: ['test/differential/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // Starts etcd + kube-apiserver (or uses KUBECONFIG) and installs the CRDs: test/testbed/.
          // The binaries are built beforehand by `npm run testbed:build` (part of `npm test`).
          globalSetup: ['test/testbed/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
