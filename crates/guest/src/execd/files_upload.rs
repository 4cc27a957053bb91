//! POST /files/upload (src/guest/execd/files-upload.ts): multipart with pairs of parts,
//! `metadata` (JSON `{path, owner?, group?, mode?}`) and `file`, the n-th metadata describing
//! the n-th file. Files are written as the sandbox's default user through envd's writer
//! (http/files_post.rs), parents created; a file that arrives before its metadata is held in
//! memory until it comes. Every part is read through, so a refused file does not cut the
//! request short; the first failure is the answer.
use bytes::Bytes;
use http::request::Parts;
use hyper::body::Incoming;
use serde::Deserialize;

use super::Execd;
use super::errors::{ExecdError, ExecdResult};
use super::permissions::{Permission, apply_permission};
use crate::error::Code;
use crate::http::file_access::FileRequest;
use crate::http::files_post::{data_stream, write_file};
use crate::http::respond::{self, HttpResponse};

#[derive(Deserialize)]
struct FileMetadata {
    path: String,
    #[serde(flatten)]
    permission: Permission,
}

fn invalid_metadata(message: impl Into<String>) -> ExecdError {
    ExecdError::with_code(Code::InvalidArgument, "INVALID_FILE_METADATA", message)
}

fn bad_multipart(e: multer::Error) -> ExecdError {
    ExecdError::with_code(Code::InvalidArgument, "INVALID_FILE", format!("bad multipart request: {e}"))
}

fn parse_metadata(bytes: &[u8]) -> ExecdResult<FileMetadata> {
    let raw: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| invalid_metadata("a metadata part is not JSON"))?;
    let meta: FileMetadata =
        serde_json::from_value(super::request::without_nulls(raw)).map_err(|e| invalid_metadata(format!("invalid metadata: {e}")))?;
    if meta.path.is_empty() {
        return Err(invalid_metadata("invalid metadata: path: must not be empty"));
    }
    if meta.permission.mode.is_some_and(|m| m > 7777) {
        return Err(invalid_metadata("invalid metadata: mode: must be at most 7777"));
    }
    Ok(meta)
}

/// Writes one file's bytes at its metadata's path, then applies the metadata's permission.
async fn write<E: std::fmt::Display>(
    execd: &Execd,
    f: &FileRequest,
    meta: &ExecdResult<FileMetadata>,
    chunks: impl futures::Stream<Item = Result<Bytes, E>>,
) -> ExecdResult<()> {
    let meta = match meta {
        Ok(meta) => meta,
        Err(err) => return Err(err.clone()),
    };
    let path = execd.path(&meta.path)?;
    write_file(f, &path, false, None, chunks).await?;
    apply_permission(&path, &meta.permission, &execd.guest.users)
}

pub async fn upload_files(execd: &Execd, parts: &Parts, body: Incoming) -> ExecdResult<HttpResponse> {
    let content_type = parts.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("multipart/form-data") {
        return Err(ExecdError::with_code(Code::InvalidArgument, "INVALID_FILE", "send multipart/form-data with parts \"metadata\" and \"file\""));
    }
    let boundary = multer::parse_boundary(content_type).map_err(bad_multipart)?;
    let f = FileRequest { state: execd.guest.state(), user: execd.default_user()?, raw_path: None };
    let mut multipart = multer::Multipart::new(data_stream(body), boundary);
    let mut metas: Vec<ExecdResult<FileMetadata>> = Vec::new();
    // Files whose metadata had not come yet, by their index.
    let mut waiting: Vec<(usize, Bytes)> = Vec::new();
    let mut files = 0;
    let mut failure: Option<ExecdError> = None;
    while let Some(field) = multipart.next_field().await.map_err(bad_multipart)? {
        match field.name() {
            Some("metadata") => {
                metas.push(parse_metadata(&field.bytes().await.map_err(bad_multipart)?));
                let i = metas.len() - 1;
                if let Some(at) = waiting.iter().position(|(n, _)| *n == i) {
                    let (_, data) = waiting.swap_remove(at);
                    let chunks = futures::stream::iter([Ok::<_, std::convert::Infallible>(data)]);
                    if let Err(err) = write(execd, &f, &metas[i], chunks).await {
                        failure.get_or_insert(err);
                    }
                }
            }
            Some("file") => {
                let i = files;
                files += 1;
                match metas.get(i) {
                    Some(meta) => {
                        if let Err(err) = write(execd, &f, meta, field).await {
                            failure.get_or_insert(err);
                        }
                    }
                    None => waiting.push((i, field.bytes().await.map_err(bad_multipart)?)),
                }
            }
            _ => {
                field.bytes().await.map_err(bad_multipart)?;
            }
        }
    }
    if files == 0 || files != metas.len() {
        return Err(invalid_metadata(format!(
            "got {files} \"file\" and {} \"metadata\" parts; send one metadata part per file",
            metas.len()
        )));
    }
    match failure {
        Some(err) => Err(err),
        None => Ok(respond::empty(200)),
    }
}
