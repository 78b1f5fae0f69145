/** Bytes for people: MiB or GiB with one decimal, KiB below a MiB. */
export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  return `${(n / 1024).toFixed(1)} KiB`
}
