/**
 * The glob patterns of GET /files/search: `*` and `?` within one path segment, `**` across
 * segments, `[...]` classes. A pattern without `/` matches the file's name wherever it is
 * (`*.py` finds `a/b/c.py`); one with `/` matches the path relative to the searched directory.
 */
export function globMatcher(pattern: string): (relativePath: string) => boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      const slash = pattern[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close === -1) { re += '\\['; continue; }
      re += `[${pattern.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  const rx = new RegExp(`^${re}$`);
  const byName = !pattern.includes('/');
  return (rel) => rx.test(byName ? rel.slice(rel.lastIndexOf('/') + 1) : rel);
}
