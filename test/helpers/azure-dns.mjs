// Resolves every *.blob.core.windows.net name to 127.0.0.1 in this process, so blob URLs on the
// product-style host reach the fake results service (startResultsService({ blobHost: 'azure' })).
// That host is the only one for which @actions/cache downloads through the Azure SDK (HEAD, then 4 MiB
// ranged GETs), the path github.com runners take. Only for child processes in tests:
//
//   node --import ./test/helpers/azure-dns.mjs script.js
//   (or NODE_OPTIONS="--import=/abs/path/test/helpers/azure-dns.mjs")
//
// node:http and node:net look up hosts through dns.lookup, so wrapping it is enough; other names pass
// through untouched.
import dns from 'node:dns'

const lookup = dns.lookup
dns.lookup = function (hostname, options, callback) {
  if (typeof options === 'function') [options, callback] = [{}, options]
  if (!/\.blob\.core\.windows\.net\.?$/i.test(hostname)) return lookup.call(this, hostname, options, callback)
  // `all` is what net's autoSelectFamily (happy eyeballs) asks for.
  const all = typeof options === 'object' && options?.all
  process.nextTick(() =>
    all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)
  )
}
