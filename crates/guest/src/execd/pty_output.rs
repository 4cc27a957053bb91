//! A PTY session's output history for replay (`GET /pty/{id}/ws?since=<offset>`;
//! src/guest/execd/pty-output.ts). Offsets count every byte the session ever produced; only the
//! last `capacity` bytes are kept (PTY_REPLAY_BYTES, 1 MiB: a few thousand screens of terminal
//! output, bounded so a chatty process cannot grow guest memory), so a client asking for older
//! bytes gets what is left, starting at the offset the replay frame names.
use std::collections::VecDeque;

use bytes::Bytes;

pub const PTY_REPLAY_BYTES: usize = 1024 * 1024;

pub struct PtyOutput {
    capacity: usize,
    chunks: VecDeque<Bytes>,
    kept: usize,
    /// Offset just past the last byte produced (upstream's `output_offset`).
    end: u64,
}

impl PtyOutput {
    pub fn new(capacity: usize) -> Self {
        Self { capacity, chunks: VecDeque::new(), kept: 0, end: 0 }
    }

    pub fn end(&self) -> u64 {
        self.end
    }

    /// Offset of the oldest byte still kept.
    fn start(&self) -> u64 {
        self.end - self.kept as u64
    }

    pub fn append(&mut self, data: Bytes) {
        self.kept += data.len();
        self.end += data.len() as u64;
        self.chunks.push_back(data);
        while self.kept > self.capacity {
            let excess = self.kept - self.capacity;
            let first = self.chunks.front_mut().expect("kept bytes are in chunks");
            if first.len() <= excess {
                self.kept -= first.len();
                self.chunks.pop_front();
            } else {
                *first = first.slice(excess..);
                self.kept -= excess;
            }
        }
    }

    /// The kept bytes from `since` on, and the offset they start at (later than `since` if those bytes were dropped).
    pub fn since(&self, since: u64) -> (u64, Vec<u8>) {
        let offset = since.clamp(self.start(), self.end);
        let mut skip = (offset - self.start()) as usize;
        let mut data = Vec::with_capacity((self.end - offset) as usize);
        for chunk in &self.chunks {
            let from = skip.min(chunk.len());
            skip -= from;
            data.extend_from_slice(&chunk[from..]);
        }
        (offset, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn since(out: &PtyOutput, at: u64) -> (u64, String) {
        let (offset, data) = out.since(at);
        (offset, String::from_utf8(data).unwrap())
    }

    #[test]
    fn offsets_count_every_byte() {
        let mut out = PtyOutput::new(100);
        out.append(Bytes::from_static(b"hello "));
        out.append(Bytes::from_static(b"world"));
        assert_eq!(out.end(), 11);
        assert_eq!(since(&out, 6), (6, "world".into()));
        assert_eq!(since(&out, 0), (0, "hello world".into()));
        assert_eq!(since(&out, 11), (11, String::new()));
        // An offset past the end replays nothing rather than failing.
        assert_eq!(since(&out, 50), (11, String::new()));
    }

    #[test]
    fn only_the_last_capacity_bytes_are_kept() {
        let mut out = PtyOutput::new(8);
        out.append(Bytes::from_static(b"abcdef"));
        out.append(Bytes::from_static(b"ghijkl"));
        assert_eq!(out.end(), 12);
        assert_eq!(out.start(), 4);
        assert_eq!(since(&out, 0), (4, "efghijkl".into()));
        assert_eq!(since(&out, 10), (10, "kl".into()));
        // One chunk larger than the whole capacity keeps only its tail.
        out.append(Bytes::from_static(b"0123456789"));
        assert_eq!(since(&out, 0), (14, "23456789".into()));
    }
}
