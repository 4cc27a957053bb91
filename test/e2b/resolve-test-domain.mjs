// Preloaded (node --import) into the E2B SDK 2.0.x child process: SDKs before 2.7 reach the
// server only as https://api.<domain> and https://<port>-<id>.<domain>, so the test resolves
// every name under E2B_TEST_DOMAIN to 127.0.0.1 here instead of editing /etc/hosts. The SDK
// itself is unchanged. (A stand-in for wildcard DNS, which a test on loopback cannot have.)
import dns from 'node:dns';

const domain = process.env.E2B_TEST_DOMAIN;
const original = dns.lookup;
const ours = (host) => typeof host === 'string' && domain && (host === domain || host.endsWith(`.${domain}`));

dns.lookup = function lookup(host, options, callback) {
  const cb = typeof options === 'function' ? options : callback;
  const opts = typeof options === 'object' && options !== null ? options : {};
  if (!ours(host)) return original.call(this, host, options, callback);
  if (opts.all) process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
  else process.nextTick(cb, null, '127.0.0.1', 4);
  return {};
};
