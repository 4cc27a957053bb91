//! GET /files/download?path= (src/guest/execd/files-download.ts): the file's bytes.
//! `Range: bytes=a-b` (one range) answers 206 with Content-Range, 416 when it lies outside the
//! file; `offset` (1-based line) and `limit` (lines) answer those lines as text/plain instead.
//! The two ways are exclusive.
use std::io::{Seek, SeekFrom};
use std::path::Path;

use http::request::Parts;
use http::{Response, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::Execd;
use super::errors::{ExecdError, ExecdResult};
use super::request::require_query;
use crate::error::{Code, GuestError};
use crate::http::files_get::file_body;
use crate::http::query::Query;
use crate::http::respond::{self, HttpResponse};

/// encodeURIComponent's unreserved characters.
pub(super) const URI_COMPONENT: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'!').remove(b'~').remove(b'*').remove(b'\'').remove(b'(').remove(b')');

/// (start, end) inclusive of a single `bytes=` range, None when it cannot be satisfied.
fn byte_range(header: &str, size: u64) -> ExecdResult<Option<(u64, u64)>> {
    let bad = || ExecdError::new(Code::InvalidArgument, format!("Range '{header}' is not one range of the form bytes=a-b"));
    let (from, to) = header.trim().strip_prefix("bytes=").and_then(|r| r.split_once('-')).ok_or_else(bad)?;
    let number = |s: &str| if s.bytes().all(|b| b.is_ascii_digit()) { Ok(s.parse::<u64>().ok()) } else { Err(bad()) };
    match (number(from)?, number(to)?) {
        (None, None) => Err(bad()),
        (None, Some(suffix)) => {
            let n = suffix.min(size);
            Ok((n > 0).then(|| (size - n, size - 1)))
        }
        (Some(start), end) => {
            let end = end.map_or(size.saturating_sub(1), |e| e.min(size.saturating_sub(1)));
            Ok((start < size && start <= end).then_some((start, end)))
        }
    }
}

fn positive(query: &Query, name: &str) -> ExecdResult<Option<usize>> {
    let Some(raw) = query.get(name) else { return Ok(None) };
    match raw.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(Some(n)),
        _ => Err(ExecdError::new(Code::InvalidArgument, format!("{name} '{raw}' must be a positive integer"))),
    }
}

/// Lines `offset` on (1-based), `limit` of them, joined by `\n` as they were.
fn lines(text: &str, offset: Option<usize>, limit: Option<usize>) -> String {
    let from = offset.unwrap_or(1) - 1;
    let picked: Vec<&str> = text.split('\n').skip(from).take(limit.unwrap_or(usize::MAX)).collect();
    picked.join("\n")
}

pub fn download_file(execd: &Execd, parts: &Parts, query: &Query) -> ExecdResult<HttpResponse> {
    let path = execd.path(require_query(query, "path")?)?;
    let io = |e: std::io::Error| ExecdError::from(GuestError::io(&e, &path));
    let meta = std::fs::metadata(&path).map_err(io)?;
    if !meta.is_file() {
        return Err(ExecdError::with_code(Code::InvalidArgument, "INVALID_FILE", format!("'{path}' is not a regular file")));
    }
    let size = meta.len();
    let (offset, limit) = (positive(query, "offset")?, positive(query, "limit")?);
    let range = parts.headers.get(header::RANGE).map(|v| v.to_str().unwrap_or(""));
    if range.is_some() && (offset.is_some() || limit.is_some()) {
        return Err(ExecdError::new(Code::InvalidArgument, "use either a Range header or offset/limit, not both"));
    }
    if offset.is_some() || limit.is_some() {
        let text = String::from_utf8_lossy(&std::fs::read(&path).map_err(io)?).into_owned();
        let text = lines(&text, offset, limit);
        return Ok(Response::builder()
            .status(200)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .header(header::CONTENT_LENGTH, text.len())
            .body(respond::full(text))
            .expect("valid headers"));
    }
    let name = Path::new(&path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let res = Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_DISPOSITION, format!("attachment; filename*=UTF-8''{}", utf8_percent_encode(&name, URI_COMPONENT)))
        .header(header::ACCEPT_RANGES, "bytes");
    let mut file = std::fs::File::open(&path).map_err(io)?;
    let Some(range) = range else {
        return Ok(res.status(200).header(header::CONTENT_LENGTH, size).body(file_body(file, size, false)).expect("valid headers"));
    };
    let Some((start, end)) = byte_range(range, size)? else {
        return Ok(Response::builder()
            .status(416)
            .header(header::CONTENT_RANGE, format!("bytes */{size}"))
            .header(header::CONTENT_LENGTH, 0)
            .body(respond::full(Vec::new()))
            .expect("valid headers"));
    };
    file.seek(SeekFrom::Start(start)).map_err(io)?;
    let len = end - start + 1;
    Ok(res
        .status(206)
        .header(header::CONTENT_LENGTH, len)
        .header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}"))
        .body(file_body(file, len, false))
        .expect("valid headers"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_closed_open_ended_suffix_clipped() {
        assert_eq!(byte_range("bytes=0-4", 10).unwrap(), Some((0, 4)));
        assert_eq!(byte_range("bytes=6-", 10).unwrap(), Some((6, 9)));
        assert_eq!(byte_range("bytes=-3", 10).unwrap(), Some((7, 9)));
        assert_eq!(byte_range("bytes=-30", 10).unwrap(), Some((0, 9)));
        assert_eq!(byte_range("bytes=8-100", 10).unwrap(), Some((8, 9)));
    }

    #[test]
    fn unsatisfiable_ranges_are_none_and_malformed_ones_refused() {
        assert_eq!(byte_range("bytes=10-", 10).unwrap(), None);
        assert_eq!(byte_range("bytes=5-2", 10).unwrap(), None);
        assert_eq!(byte_range("bytes=-0", 10).unwrap(), None);
        assert_eq!(byte_range("bytes=0-", 0).unwrap(), None);
        for bad in ["bytes=-", "bytes=0-1,3-4", "items=0-1"] {
            assert!(byte_range(bad, 10).is_err(), "{bad}");
        }
    }

    #[test]
    fn lines_by_offset_and_limit() {
        let text = "line1\nline2\nline3\nline4\n";
        assert_eq!(lines(text, Some(2), Some(2)), "line2\nline3");
        assert_eq!(lines(text, Some(4), None), "line4\n");
        assert_eq!(lines(text, None, Some(1)), "line1");
    }
}
