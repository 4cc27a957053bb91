//! GET and HEAD /files (src/guest/http/files-get.ts): a file's bytes, gzip-compressed when the
//! client accepts it and the bytes compress (406 when it accepts neither gzip nor identity), with
//! Content-Disposition and a sniffed Content-Type.
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::{DeflateEncoder, GzEncoder};
use http::request::Parts;
use http::{Response, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::file_access::{FileOperation, authorize_file_request};
use super::query::Query;
use super::respond::{self, BodyError, HttpResponse, full};
use super::rest::header as header_of;
use crate::auth::user_path;
use crate::context::Guest;
use crate::error::{Code, GuestError, GuestResult};

/// The served codings a client accepts (RFC 9110 §12.5.3).
#[derive(Debug, PartialEq)]
pub struct Accepted {
    gzip: bool,
    identity: bool,
}

/// What Accept-Encoding allows; None when neither gzip nor identity (→ 406).
pub fn accepted_encodings(header: Option<&str>) -> Option<Accepted> {
    let Some(header) = header.filter(|h| !h.trim().is_empty()) else {
        return Some(Accepted { gzip: false, identity: true });
    };
    let mut q: Vec<(String, f64)> = Vec::new();
    for part in header.split(',') {
        let lower = part.trim().to_ascii_lowercase();
        let mut pieces = lower.split(';');
        let coding = pieces.next().unwrap_or("").to_string();
        if coding.is_empty() {
            continue;
        }
        let weight = pieces.map(str::trim).find_map(|p| p.strip_prefix("q=")).map(|w| w.parse::<f64>().unwrap_or(0.0)).unwrap_or(1.0);
        q.retain(|(c, _)| *c != coding);
        q.push((coding, weight));
    }
    let weight = |c: &str| q.iter().find(|(k, _)| k == c).map(|(_, w)| *w);
    let star = weight("*");
    let accepted = Accepted {
        gzip: weight("gzip").or(star).unwrap_or(0.0) > 0.0,
        identity: weight("identity").or(star).unwrap_or(1.0) > 0.0,
    };
    (accepted.gzip || accepted.identity).then_some(accepted)
}

/// The fastest level: the bytes mostly cross the host's own link, and under gVisor compressing
/// costs far more than sending (BENCHMARKS.md, issue #13).
fn level() -> Compression {
    Compression::fast()
}

/// Whether `sample` (a file's first bytes) compresses by at least a tenth. Data that does not (an
/// archive, an image, random bytes) is sent as it is to a client that accepts identity.
fn compresses(sample: &[u8]) -> bool {
    let mut enc = DeflateEncoder::new(Vec::new(), level());
    let size = enc.write_all(sample).and_then(|()| enc.finish()).map(|v| v.len()).unwrap_or(usize::MAX);
    size as f64 <= sample.len() as f64 * 0.9
}

/// Files up to this size are read, and compressed, in one go.
const WHOLE_READ_MAX: usize = 64 * 1024;
/// Bytes per read of a larger file as it is sent. Each read and each write to the socket is a
/// system call into gVisor's sentry: 64 KiB chunks took 1.5–2× as long for a 64 MiB download as
/// 512 KiB ones (BENCHMARKS.md, twenty-seventh round).
const CHUNK: usize = 512 * 1024;

/// text/plain when the first 512 bytes are valid UTF-8 without NULs, else octet-stream.
fn sniff_content_type(data: &[u8]) -> &'static str {
    let head = &data[..data.len().min(512)];
    if head.contains(&0) {
        return "application/octet-stream";
    }
    // A multi-byte character cut at byte 512 is not binary: drop up to 3 trailing bytes.
    let checked = if head.len() == 512 { &head[..509] } else { head };
    if std::str::from_utf8(checked).is_ok() { "text/plain; charset=utf-8" } else { "application/octet-stream" }
}

/// encodeURIComponent's unreserved characters.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-').remove(b'_').remove(b'.').remove(b'!').remove(b'~').remove(b'*').remove(b'\'').remove(b'(').remove(b')');

fn content_disposition(name: &str) -> String {
    // One `_` per UTF-16 unit, as the TypeScript guest's replace over a JavaScript string gives.
    let ascii: String = name
        .chars()
        .flat_map(|c| {
            let keep = (' '..='~').contains(&c) && c != '"' && c != '\\';
            std::iter::repeat_n(if keep { c } else { '_' }, if keep { 1 } else { c.len_utf16() })
        })
        .collect();
    format!("inline; filename=\"{ascii}\"; filename*=UTF-8''{}", utf8_percent_encode(name, URI_COMPONENT))
}

fn read_head(path: &str, n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    File::open(path)?.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), level());
    enc.write_all(data)?;
    enc.finish()
}

pub fn get_files(guest: &Guest, parts: &Parts, query: &Query) -> GuestResult<HttpResponse> {
    let f = authorize_file_request(guest, parts, query, FileOperation::Read)?;
    let path = user_path(&f.state, &f.user, f.require_path()?);
    let meta = std::fs::metadata(&path).map_err(|e| GuestError::io(&e, &path))?;
    if meta.is_dir() {
        return Err(GuestError::new(Code::InvalidArgument, format!("'{path}' is a directory, not a file")));
    }
    let size = meta.len();
    let Some(accepted) = accepted_encodings(header_of(parts, "accept-encoding")) else {
        return Ok(respond::json(406, &serde_json::json!({ "code": 406, "message": "only gzip and identity encodings are supported" })));
    };
    let head = parts.method == http::Method::HEAD;
    // A file of one read is its own sample; a larger one is judged by its first as many bytes.
    let io = |e: std::io::Error| GuestError::io(&e, &path);
    let whole = if size as usize <= WHOLE_READ_MAX { Some(std::fs::read(&path).map_err(io)?) } else { None };
    let head_bytes;
    let sample: &[u8] = match &whole {
        Some(w) => w,
        None => {
            head_bytes = read_head(&path, WHOLE_READ_MAX).map_err(io)?;
            &head_bytes
        }
    };
    let gzipped = accepted.gzip && (!accepted.identity || compresses(sample));
    let name = Path::new(&path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut res = Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, sniff_content_type(sample))
        .header(header::CONTENT_DISPOSITION, content_disposition(&name))
        .header(header::LAST_MODIFIED, httpdate::fmt_http_date(meta.modified().unwrap_or(std::time::UNIX_EPOCH)))
        .header(header::VARY, "Accept-Encoding");
    if gzipped {
        res = res.header(header::CONTENT_ENCODING, "gzip");
    }
    let built = |res: http::response::Builder, body| res.body(body).expect("valid headers");
    if let (Some(data), false) = (whole, head) {
        let body = if gzipped { gzip(&data).map_err(io)? } else { data };
        return Ok(built(res.header(header::CONTENT_LENGTH, body.len()), full(body)));
    }
    if !gzipped {
        res = res.header(header::CONTENT_LENGTH, size);
    }
    if head {
        return Ok(built(res, full(Bytes::new())));
    }
    let file = File::open(&path).map_err(io)?;
    Ok(built(res, file_body(file, size, gzipped)))
}

/// The chunks of a file as it is sent: `size` bytes of it (the size stat gave, so a file that
/// grows meanwhile ends where it was), gzip-compressed as they go when there is an encoder.
struct FileChunks {
    file: std::io::Take<File>,
    encoder: Option<GzEncoder<Vec<u8>>>,
    failed: bool,
}

impl FileChunks {
    /// The next bytes to send (empty while the encoder gathers), or None at the end.
    fn step(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut buf = vec![0u8; CHUNK];
        let n = self.file.read(&mut buf)?;
        buf.truncate(n);
        let Some(encoder) = &mut self.encoder else { return Ok((n > 0).then_some(buf)) };
        if n > 0 {
            encoder.write_all(&buf)?;
            return Ok(Some(std::mem::take(encoder.get_mut())));
        }
        // The file is done: the encoder's tail, once; the next step ends the body.
        self.encoder.take().map(GzEncoder::finish).transpose()
    }
}

impl Iterator for FileChunks {
    type Item = std::io::Result<Bytes>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.failed {
            match self.step() {
                Ok(Some(out)) if out.is_empty() => continue,
                Ok(out) => return out.map(|o| Ok(Bytes::from(o))),
                Err(err) => {
                    self.failed = true;
                    return Some(Err(err));
                }
            }
        }
        None
    }
}

pub(crate) fn file_body(file: File, size: u64, gzipped: bool) -> respond::HttpBody {
    let chunks = FileChunks { file: file.take(size), encoder: gzipped.then(|| GzEncoder::new(Vec::new(), level())), failed: false };
    let frames = chunks.map(|chunk| chunk.map(Frame::data).map_err(BodyError::from));
    StreamBody::new(futures::stream::iter(frames)).boxed_unsync()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_is_read_with_weights() {
        let a = |h: Option<&str>| accepted_encodings(h).map(|a| (a.gzip, a.identity));
        assert_eq!(a(None), Some((false, true)));
        assert_eq!(a(Some("gzip, deflate")), Some((true, true)));
        assert_eq!(a(Some("gzip;q=0")), Some((false, true)));
        assert_eq!(a(Some("br, identity;q=0")), None);
        assert_eq!(a(Some("gzip, identity;q=0")), Some((true, false)));
        assert_eq!(a(Some("*")), Some((true, true)));
        assert_eq!(a(Some("*;q=0")), None);
    }

    #[test]
    fn only_compressible_bytes_are_compressed() {
        assert!(compresses(&b"line\n".repeat(1000)));
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert!(!compresses(&noise));
    }

    #[test]
    fn content_type_and_disposition() {
        assert_eq!(sniff_content_type(b"hello"), "text/plain; charset=utf-8");
        assert_eq!(sniff_content_type(b"a\0b"), "application/octet-stream");
        let mut cut = vec![b'a'; 510];
        cut.extend_from_slice("é".as_bytes());
        cut.push(b'z');
        assert_eq!(sniff_content_type(&cut[..512]), "text/plain; charset=utf-8");
        assert_eq!(content_disposition("a \"b\".txt"), "inline; filename=\"a _b_.txt\"; filename*=UTF-8''a%20%22b%22.txt");
        assert_eq!(content_disposition("é.txt"), "inline; filename=\"_.txt\"; filename*=UTF-8''%C3%A9.txt");
        assert_eq!(content_disposition("😀"), "inline; filename=\"__\"; filename*=UTF-8''%F0%9F%98%80");
    }

    #[test]
    fn a_file_is_sent_at_the_size_stat_gave_plain_or_gzipped() {
        let dir = crate::test_dir::TestDir::new("chunks");
        let path = dir.join("lines");
        let data = b"line\n".repeat(40_000);
        std::fs::write(&path, &data).unwrap();
        let chunks = |gzipped: bool| FileChunks {
            file: File::open(&path).unwrap().take(100_000),
            encoder: gzipped.then(|| GzEncoder::new(Vec::new(), level())),
            failed: false,
        };
        let plain: Vec<u8> = chunks(false).flat_map(|c| c.unwrap().to_vec()).collect();
        assert_eq!(plain, &data[..100_000]);
        let zipped: Vec<u8> = chunks(true).flat_map(|c| c.unwrap().to_vec()).collect();
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&zipped[..]).read_to_end(&mut unzipped).unwrap();
        assert_eq!(unzipped, &data[..100_000]);
    }
}
