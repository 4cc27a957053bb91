/** The wire ProcessSelector as a registry selector. */
import { AgentboxError } from '../../api/errors.ts';
import type { ProcessSelector } from '../gen/process_pb.ts';
import type { Selector } from './registry.ts';

export function selector(sel: ProcessSelector | undefined): Selector {
  switch (sel?.selector.case) {
    case 'pid': return { pid: sel.selector.value };
    case 'tag': return { tag: sel.selector.value };
    default: throw new AgentboxError('invalid_argument', 'process selector needs a pid or a tag');
  }
}
