//! POST /files/mv (src/guest/execd/files-move.ts): `[{src, dest}]`, renamed in order through the
//! filesystem service's move, the destination's parents created as the default user.
use hyper::body::Incoming;
use serde::Deserialize;

use super::Execd;
use super::errors::{ExecdError, ExecdResult};
use super::request::read_body;
use crate::error::{Code, GuestError};
use crate::filesystem::move_entry::move_as;
use crate::http::respond::{self, HttpResponse};

#[derive(Deserialize)]
struct Move {
    src: String,
    dest: String,
}

pub async fn move_files(execd: &Execd, body: Incoming) -> ExecdResult<HttpResponse> {
    let moves: Vec<Move> = read_body(body).await?;
    if moves.iter().any(|m| m.src.is_empty() || m.dest.is_empty()) {
        return Err(ExecdError::new(Code::InvalidArgument, "invalid request body: src and dest must not be empty"));
    }
    let user = execd.default_user()?;
    for m in moves {
        let (src, dest) = (execd.path(&m.src)?, execd.path(&m.dest)?);
        move_as(&user, &src, &dest).map_err(|e| GuestError::io(&e, &src))?;
    }
    Ok(respond::empty(200))
}
