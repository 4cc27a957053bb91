//! execd sends process output one line per event, without its line ending (`\n`, `\r\n` or `\r`)
//! (src/guest/execd/lines.ts); an empty line is sent as "\n" so it is not an empty event, and a
//! last line without an ending is sent when the stream is flushed. OpenSandbox's end-to-end
//! tests read `stdout[0].text` as the first line, so chunking by bytes would break them.
//!
//! Lines are split on bytes and decoded whole: no UTF-8 sequence contains `\r` or `\n`, so a
//! character split across chunks stays in the partial line until its end arrives.
#[derive(Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

fn text(line: &[u8]) -> String {
    if line.is_empty() { "\n".into() } else { String::from_utf8_lossy(line).into_owned() }
}

impl LineSplitter {
    /// The lines `chunk` completes.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.partial.extend_from_slice(chunk);
        let buf = std::mem::take(&mut self.partial);
        let mut lines = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i < buf.len() {
            match buf[i] {
                b'\n' => {
                    lines.push(text(&buf[start..i]));
                    start = i + 1;
                }
                // A trailing \r may be the first half of \r\n: keep it until the next chunk says.
                b'\r' if i + 1 == buf.len() => break,
                b'\r' => {
                    lines.push(text(&buf[start..i]));
                    if buf[i + 1] == b'\n' {
                        i += 1;
                    }
                    start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        self.partial = buf[start..].to_vec();
        lines
    }

    /// The last line when it had no ending.
    pub fn flush(&mut self) -> Option<String> {
        let mut rest = std::mem::take(&mut self.partial);
        if rest.last() == Some(&b'\r') {
            rest.pop();
        }
        (!rest.is_empty()).then(|| String::from_utf8_lossy(&rest).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<String> {
        let mut s = LineSplitter::default();
        let mut out: Vec<String> = chunks.iter().flat_map(|c| s.push(c)).collect();
        out.extend(s.flush());
        out
    }

    #[test]
    fn splits_on_every_line_ending() {
        assert_eq!(split(&[b"a\nb\r\nc\rd"]), ["a", "b", "c", "d"]);
        assert_eq!(split(&[b"a\n\nb\n"]), ["a", "\n", "b"]);
    }

    #[test]
    fn keeps_a_crlf_split_across_chunks_whole() {
        assert_eq!(split(&[b"a\r", b"\nb"]), ["a", "b"]);
        assert_eq!(split(&[b"a\r", b"b"]), ["a", "b"]);
        assert_eq!(split(&[b"a\r"]), ["a"]);
    }

    #[test]
    fn keeps_a_character_split_across_chunks_whole() {
        let e = "é\n".as_bytes();
        assert_eq!(split(&[&e[..1], &e[1..]]), ["é"]);
    }

    #[test]
    fn nothing_for_nothing() {
        assert!(split(&[b""]).is_empty());
    }
}
