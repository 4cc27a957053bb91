/**
 * Builds the native guest (crates/guest) into the cache the engine reads (src/envd/native-bundle.ts),
 * so the first `agentbox up` after a setup or a change of its sources does not wait for cargo.
 * Without cargo it says so and leaves the engine to the TypeScript guest (src/engine/index.ts).
 */
import { ensureNativeGuestBundle, locateNativeGuest } from '../src/envd/native-bundle.ts';

const native = locateNativeGuest();
if (!native.built && !native.cargo) {
  console.log('no cargo: sandboxes will run the TypeScript guest; install Rust 1.88 or later with rustup for the native one (about half the memory per sandbox)');
} else {
  await ensureNativeGuestBundle({ onProgress: (msg) => console.log(msg) }, native);
}
