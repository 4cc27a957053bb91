/**
 * The runtime classes this engine knows: a new class is one sibling module implementing
 * runtime-class.ts, listed here and in types.ts RUNTIME_CLASS_NAMES (its preference order).
 */
import type { RuntimeClassName } from '../types.ts';
import { gvisor } from './gvisor.ts';
import { runc } from './runc.ts';
import type { RuntimeClass } from './runtime-class.ts';

const CLASSES: Record<RuntimeClassName, RuntimeClass> = { gvisor, runc };

export function runtimeClass(name: RuntimeClassName): RuntimeClass {
  return CLASSES[name];
}
