//! POST /files (src/guest/http/files-post.ts): writes files as the request's user. Either
//! multipart/form-data (every file part; the part's filename is the target path when the `path`
//! query is absent) or a raw body for `path`, optionally `Content-Encoding: gzip`. Parents are
//! created as needed. `X-Metadata-<key>` headers become every written file's metadata, replacing
//! what it had. 200 with `[{name, path, type: "file", metadata?}]`.
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use bytes::Bytes;
use flate2::write::GzDecoder;
use futures::{Stream, StreamExt};
use http::request::Parts;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::Serialize;

use super::as_user::as_user;
use super::file_access::{FileOperation, FileRequest, authorize_file_request};
use super::query::Query;
use super::respond::{self, HttpResponse};
use super::rest::header;
use crate::auth::user_path;
use crate::context::Guest;
use crate::error::{Code, GuestError, GuestResult};
use crate::filesystem::metadata::{Metadata, metadata_from_headers, read_metadata, validate_metadata, write_metadata};
use crate::users::OsUser;

#[derive(Serialize)]
pub(crate) struct WrittenFile {
    name: String,
    path: String,
    r#type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata>,
}

/// Chunks gathered before one write: a socket read gives 64 KiB, and each write is a trip into
/// gVisor's sentry (src/guest/filesystem/fd-sink.ts).
const GATHER_BYTES: usize = 1024 * 1024;

/// The request body's data, frame by frame.
pub(crate) fn data_stream(body: Incoming) -> impl Stream<Item = Result<Bytes, hyper::Error>> + Send {
    futures::stream::unfold(body, |mut body| async move {
        loop {
            match body.frame().await? {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => return Some((Ok(data), body)),
                    Err(_trailers) => continue,
                },
                Err(e) => return Some((Err(e), body)),
            }
        }
    })
}

/// Opens `path` for writing as `user`, creating its parents, and replaces the file's metadata
/// (None: leaves it) before any content is written, as the user too, on the file the open
/// reached. Returns the file and the metadata it keeps, so the answer says what was kept.
fn open_for_write(user: &OsUser, path: &str, metadata: Option<&Metadata>) -> GuestResult<(File, Option<Metadata>)> {
    as_user(user, || {
        let io = |e: std::io::Error| GuestError::io(&e, path);
        if let Some(parent) = Path::new(path).parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let file = OpenOptions::new().write(true).create(true).truncate(true).mode(0o666).open(path).map_err(io)?;
        let target = std::fs::canonicalize(path).map_err(io)?;
        let target = target.to_string_lossy();
        if let Some(metadata) = metadata {
            write_metadata(&target, metadata)?;
        }
        Ok((file, read_metadata(&target)))
    })
}

/// Where a file's bytes go: straight to the file, or through gunzip first (boxed: its state is large).
enum Sink {
    Plain(BufWriter<File>),
    Gunzip(Box<GzDecoder<BufWriter<File>>>),
}

impl Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.write_all(data),
            Sink::Gunzip(w) => w.write_all(data),
        }
    }

    fn finish(self) -> std::io::Result<()> {
        let mut writer = match self {
            Sink::Plain(w) => w,
            Sink::Gunzip(w) => w.finish()?,
        };
        writer.flush()
    }
}

/// Writes `chunks` to `target` as the request's user (execd's uploads too). On failure the rest of the chunks are drained, so the
/// request completes and the connection stays usable.
pub(crate) async fn write_file<E: std::fmt::Display>(
    f: &FileRequest,
    target: &str,
    gunzip: bool,
    metadata: Option<&Metadata>,
    chunks: impl Stream<Item = Result<Bytes, E>>,
) -> GuestResult<WrittenFile> {
    // Fused: the drain after a failure may come when the stream has already ended.
    let mut chunks = std::pin::pin!(chunks.fuse());
    let path = user_path(&f.state, &f.user, target);
    let result = async {
        let (file, kept) = open_for_write(&f.user, &path, metadata)?;
        let writer = BufWriter::with_capacity(GATHER_BYTES, file);
        let mut sink = if gunzip { Sink::Gunzip(Box::new(GzDecoder::new(writer))) } else { Sink::Plain(writer) };
        let io = |e: std::io::Error| GuestError::io(&e, &path);
        loop {
            let chunk = chunks.next().await.transpose();
            match chunk.map_err(|e| GuestError::new(Code::InvalidArgument, format!("reading the upload failed: {e}")))? {
                Some(data) => sink.write(&data).map_err(io)?,
                None => break,
            }
        }
        sink.finish().map_err(io)?;
        Ok(kept)
    }
    .await;
    match result {
        Ok(kept) => {
            let name = Path::new(&path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            Ok(WrittenFile { name, path, r#type: "file", metadata: kept })
        }
        Err(err) => {
            while let Some(Ok(_)) = chunks.next().await {}
            Err(err)
        }
    }
}

fn bad_multipart(e: multer::Error) -> GuestError {
    GuestError::new(Code::InvalidArgument, format!("bad multipart request: {e}"))
}

async fn upload_multipart(f: &FileRequest, content_type: &str, body: Incoming, metadata: &Metadata) -> GuestResult<Vec<WrittenFile>> {
    let boundary = multer::parse_boundary(content_type).map_err(bad_multipart)?;
    let mut multipart = multer::Multipart::new(data_stream(body), boundary);
    let mut written = Vec::new();
    // Every part is read through, so one failed write does not cut the request short; the first failure is the answer.
    let mut failure = None;
    while let Some(mut field) = multipart.next_field().await.map_err(bad_multipart)? {
        // A part is a file when it names one or is typed as bytes, as busboy (the TypeScript
        // guest's parser) decides; an empty filename names none. Other parts are form fields.
        let filename = field.file_name().filter(|n| !n.is_empty()).map(str::to_string);
        let octets = field.content_type().is_some_and(|t| t.essence_str() == "application/octet-stream");
        if filename.is_none() && !octets {
            while field.chunk().await.map_err(bad_multipart)?.is_some() {}
            continue;
        }
        let target = f.raw_path.clone().or(filename).unwrap_or_default();
        let result = if target.is_empty() {
            while field.chunk().await.map_err(bad_multipart)?.is_some() {}
            Err(GuestError::new(Code::InvalidArgument, "a multipart part has no filename and the path query is absent"))
        } else {
            write_file(f, &target, false, Some(metadata), field).await
        };
        match result {
            Ok(file) => written.push(file),
            Err(err) => {
                failure.get_or_insert(err);
            }
        }
    }
    match failure {
        Some(err) => Err(err),
        None => Ok(written),
    }
}

pub async fn post_files(guest: &Guest, parts: &Parts, query: &Query, body: Incoming) -> GuestResult<HttpResponse> {
    let f = authorize_file_request(guest, parts, query, FileOperation::Write)?;
    let metadata = metadata_from_headers(&parts.headers);
    validate_metadata(&metadata)?;
    let content_type = header(parts, "content-type").unwrap_or("").to_string();
    let written = if content_type.to_ascii_lowercase().starts_with("multipart/form-data") {
        upload_multipart(&f, &content_type, body, &metadata).await?
    } else {
        let target = f.require_path()?.to_string();
        let encoding = header(parts, "content-encoding").unwrap_or("identity").to_ascii_lowercase();
        if encoding != "gzip" && encoding != "identity" {
            return Err(GuestError::new(Code::InvalidArgument, format!("Content-Encoding '{encoding}' is not supported; use gzip or none")));
        }
        vec![write_file(&f, &target, encoding == "gzip", Some(&metadata), data_stream(body)).await?]
    };
    if written.is_empty() {
        return Err(GuestError::new(Code::InvalidArgument, "no file part in the request; send parts named \"file\""));
    }
    Ok(respond::json(200, &serde_json::to_value(&written).expect("written files serialise")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::GuestState;

    fn request() -> FileRequest {
        let state = GuestState { access_token: None, env_vars: Default::default(), default_user: "root".into(), default_workdir: None };
        let user = OsUser { name: "root".into(), uid: 0, gid: 0, home: "/root".into(), shell: "/bin/sh".into() };
        FileRequest { state, user, raw_path: None }
    }

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
        futures::stream::iter(parts.iter().map(|p| Ok(Bytes::from_static(p))).collect::<Vec<_>>())
    }

    #[tokio::test(flavor = "current_thread")]
    async fn uploads_are_written_and_gunzipped() {
        let dir = crate::test_dir::TestDir::new("post");
        let target = dir.join("a/b.txt").to_string_lossy().into_owned();
        let written = write_file(&request(), &target, false, Some(&Metadata::new()), chunks(&[b"one ", b"two"])).await.unwrap();
        assert_eq!((written.name.as_str(), std::fs::read_to_string(&target).unwrap().as_str()), ("b.txt", "one two"));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"zipped!").unwrap();
        let zipped: &'static [u8] = Box::leak(gz.finish().unwrap().into_boxed_slice());
        write_file(&request(), &target, true, Some(&Metadata::new()), chunks(&[&zipped[..5], &zipped[5..]])).await.unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "zipped!");
        // The failure shows only once the body has ended; draining it then must not poll it again.
        let err = write_file(&request(), &target, true, Some(&Metadata::new()), chunks(&[b"notgzip"])).await.err().unwrap();
        assert_eq!(err.code, Code::Internal);
    }
}
