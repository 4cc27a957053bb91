// What the npm `e2b` scenario scripts (scenarios.mjs, api-parity-scenarios.mjs) share: the SDK
// version under test and small assertion and waiting helpers.
const version = (process.env.E2B_SDK_VERSION ?? '0.0.0').split('.').map(Number);

/** True when the SDK under test is at least `major.minor`. */
export const atLeast = (major, minor) => version[0] > major || (version[0] === major && version[1] >= minor);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const check = (cond, msg) => { if (!cond) throw new Error(msg); };
export const eq = (a, b, msg) => check(a === b, `${msg}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);

/** Polls `fn` until it returns a truthy value: waiting for an event, not for a time. */
export async function poll(fn, what, ms = 10_000) {
  const end = Date.now() + ms;
  for (let i = 0; i < 1000 && Date.now() < end; i++) {
    const v = await fn();
    if (v) return v;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Sandbox.list is an array before 2.x paginators and a paginator after; both become an array. */
export async function listAll(Sandbox, query) {
  const v = await Sandbox.list({ query });
  if (Array.isArray(v)) return v;
  const out = [];
  for (let i = 0; i < 20 && v.hasNext; i++) out.push(...(await v.nextItems()));
  return out;
}
