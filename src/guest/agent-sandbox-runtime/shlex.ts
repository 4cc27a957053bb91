// POSIX shlex.split as Python's legacy runtime applies it to /execute commands: the command is
// split into argv and run without a shell (quotes and backslashes honoured, no expansion).
import { AgentboxError } from '../../api/errors.ts';

export function shlexSplit(input: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inToken = false;
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (ch === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) throw new AgentboxError('invalid_argument', 'No closing quotation');
      cur += input.slice(i + 1, end);
      inToken = true;
      i = end + 1;
    } else if (ch === '"') {
      i++;
      for (;;) {
        if (i >= input.length) throw new AgentboxError('invalid_argument', 'No closing quotation');
        const c = input[i]!;
        if (c === '"') { i++; break; }
        if (c === '\\' && i + 1 < input.length && '\\"$`\n'.includes(input[i + 1]!)) { cur += input[i + 1]; i += 2; continue; }
        cur += c;
        i++;
      }
      inToken = true;
    } else if (ch === '\\') {
      if (i + 1 >= input.length) throw new AgentboxError('invalid_argument', 'No escaped character');
      cur += input[i + 1];
      inToken = true;
      i += 2;
    } else if (/\s/.test(ch)) {
      if (inToken) { out.push(cur); cur = ''; inToken = false; }
      i++;
    } else {
      cur += ch;
      inToken = true;
      i++;
    }
  }
  if (inToken) out.push(cur);
  return out;
}
