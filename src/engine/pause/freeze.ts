/**
 * Pause by freezing the sandbox's cgroup (runc): memory stays resident and the processes are
 * stopped where they are; resume thaws them.
 */
import type { PauseStrategy } from './strategy.ts';

export const freezePause: PauseStrategy = {
  async pause(t, r) {
    await t.driver(r.runtime).freeze(r.id);
    await t.setState(r, 'paused', { pausedAt: new Date().toISOString(), pausedWithMemory: true });
  },

  async resume(t, r) {
    await t.driver(r.runtime).thaw(r.id);
    await t.setState(r, 'running', { pausedAt: undefined, pausedWithMemory: undefined });
  },

  // A frozen container must be thawed before it can be killed.
  async release(driver, id) {
    if ((await driver.status(id))?.status === 'paused') await driver.thaw(id).catch(() => undefined);
  },
};
