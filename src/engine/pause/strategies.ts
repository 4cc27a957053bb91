/** The pause strategy of each pause mode; a runtime class declares its mode (runtime/runtime-class.ts). */
import type { RuntimeDriver } from '../runtime/driver.ts';
import type { PauseMode } from '../types.ts';
import { checkpointPause } from './checkpoint.ts';
import { freezePause } from './freeze.ts';
import type { PauseStrategy } from './strategy.ts';

const STRATEGIES: Record<PauseMode, PauseStrategy> = { checkpoint: checkpointPause, freeze: freezePause };

export function pauseStrategy(driver: RuntimeDriver): PauseStrategy {
  return STRATEGIES[driver.pauseMode];
}
