/**
 * The guest's log: one JSON object per line on stderr, which the runtime captures as the
 * sandbox's console. Kept tiny on purpose: it is bundled into every sandbox.
 */
export interface GuestLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createGuestLog(write: (line: string) => void = (l) => process.stderr.write(l)): GuestLog {
  const emit = (level: string, msg: string, fields?: Record<string, unknown>) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
  return {
    info: (msg, fields) => emit('info', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}
