import { defineConfig } from 'vitest/config'

// The e2e suites share one Docker engine and two cores: run them one at a time.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 15 * 60_000,
    hookTimeout: 10 * 60_000,
    globalSetup: ['test/e2e/global-setup.ts']
  }
})
