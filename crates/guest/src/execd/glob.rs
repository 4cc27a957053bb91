//! The glob patterns of GET /files/search (src/guest/execd/glob.ts): `*` and `?` within one
//! path segment, `**` across segments (`**/` also matching no directory at all), `[...]`
//! classes (`[!...]` negated). A pattern without `/` matches the file's name wherever it is
//! (`*.py` finds `a/b/c.py`); one with `/` matches the path relative to the searched directory.
//! Matched by backtracking over the pattern's tokens, which keeps a regex engine out of the guest.

#[derive(Debug)]
enum Token {
    Char(char),
    /// `?`: one character but `/`.
    One,
    /// `*`: any run without `/`.
    InSegment,
    /// `**` not followed by `/`: any run.
    Anything,
    /// `**/`: nothing, or any run ending in `/`.
    Directories,
    /// `[...]`: inclusive ranges (a single character is a range of one).
    Class { negated: bool, ranges: Vec<(char, char)> },
}

pub struct Glob {
    tokens: Vec<Token>,
    by_name: bool,
}

fn class(body: &[char]) -> Token {
    // `^` negates as in the regex the TypeScript guest builds.
    let negated = matches!(body.first(), Some('!' | '^'));
    let body = if negated { &body[1..] } else { body };
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == '-' {
            ranges.push((body[i], body[i + 2]));
            i += 3;
        } else {
            ranges.push((body[i], body[i]));
            i += 1;
        }
    }
    Token::Class { negated, ranges }
}

impl Glob {
    pub fn new(pattern: &str) -> Self {
        let p: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < p.len() {
            match p[i] {
                '*' if p.get(i + 1) == Some(&'*') => {
                    let slash = p.get(i + 2) == Some(&'/');
                    tokens.push(if slash { Token::Directories } else { Token::Anything });
                    i += if slash { 3 } else { 2 };
                    continue;
                }
                '*' => tokens.push(Token::InSegment),
                '?' => tokens.push(Token::One),
                '[' => match p[i + 1..].iter().position(|&c| c == ']') {
                    Some(len) => {
                        tokens.push(class(&p[i + 1..i + 1 + len]));
                        i += len + 2;
                        continue;
                    }
                    None => tokens.push(Token::Char('[')),
                },
                c => tokens.push(Token::Char(c)),
            }
            i += 1;
        }
        Self { tokens, by_name: !pattern.contains('/') }
    }

    pub fn matches(&self, relative_path: &str) -> bool {
        let subject = if self.by_name { relative_path.rsplit('/').next().unwrap_or("") } else { relative_path };
        let s: Vec<char> = subject.chars().collect();
        matches(&self.tokens, &s)
    }
}

fn matches(tokens: &[Token], s: &[char]) -> bool {
    let Some((first, rest)) = tokens.split_first() else { return s.is_empty() };
    match first {
        Token::Char(c) => s.first() == Some(c) && matches(rest, &s[1..]),
        Token::One => s.first().is_some_and(|&c| c != '/') && matches(rest, &s[1..]),
        Token::Class { negated, ranges } => {
            s.first().is_some_and(|&c| ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&c)) != *negated) && matches(rest, &s[1..])
        }
        Token::InSegment => {
            let segment = s.iter().position(|&c| c == '/').unwrap_or(s.len());
            (0..=segment).any(|i| matches(rest, &s[i..]))
        }
        Token::Anything => (0..=s.len()).any(|i| matches(rest, &s[i..])),
        Token::Directories => matches(rest, s) || (0..s.len()).any(|i| s[i] == '/' && matches(rest, &s[i + 1..])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        Glob::new(pattern).matches(path)
    }

    #[test]
    fn a_pattern_without_a_slash_matches_the_name_at_any_depth() {
        assert!(m("*.py", "a.py") && m("*.py", "x/y/b.py"));
        assert!(!m("*.py", "a.pyc") && !m("*.py", "py"));
    }

    #[test]
    fn a_pattern_with_a_slash_matches_the_relative_path() {
        assert!(m("a/*.md", "a/n.md"));
        assert!(!m("a/*.md", "a/b/n.md"));
        assert!(m("a/**/*.md", "a/n.md") && m("a/**/*.md", "a/b/c/n.md"));
        assert!(!m("a/**/*.md", "b/n.md"));
    }

    #[test]
    fn single_characters_classes_and_literals() {
        assert!(m("f?.[ch]", "f1.c"));
        assert!(!m("f?.[ch]", "f1.o"));
        assert!(m("[!a]x", "bx") && !m("[!a]x", "ax"));
        assert!(m("[a-c]", "b") && !m("[a-c]", "d"));
        assert!(m("a+b(1).txt", "a+b(1).txt"));
        assert!(!m("a.txt", "abtxt"));
        assert!(m("**", "any/thing"));
        assert!(m("[x", "[x"));
    }
}
