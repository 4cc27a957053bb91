//! POST /files/permissions (src/guest/execd/files-permissions.ts): `{ "<path>": {mode, owner?,
//! group?} }`, applied path by path.
use hyper::body::Incoming;

use super::Execd;
use super::errors::ExecdResult;
use super::permissions::{Permission, apply_permission};
use super::request::read_by_path;
use crate::http::respond::{self, HttpResponse};

pub async fn set_permissions(execd: &Execd, body: Incoming) -> ExecdResult<HttpResponse> {
    for (p, permission) in read_by_path::<Permission>(body).await? {
        apply_permission(&execd.path(&p)?, &permission, &execd.guest.users)?;
    }
    Ok(respond::empty(200))
}
