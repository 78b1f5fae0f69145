import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    // Some unit tests write real archives and run worker threads: on 2 busy cores one took over
    // vitest's default 5 s. No test asserts on time; this only tells a hang from a slow machine.
    testTimeout: 30_000
  }
})
