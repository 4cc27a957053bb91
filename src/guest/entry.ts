/**
 * Entry point of the guest bundle (bundled to guest.cjs): runs the guest daemon (main.ts, in
 * guest-code.js beside this file) through V8's code cache; see code-cache.ts.
 */
import { dirname } from 'node:path';
import { runGuestCode } from './code-cache.ts';

void runGuestCode(dirname(__filename), require);
