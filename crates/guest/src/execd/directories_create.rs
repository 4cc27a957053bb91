//! POST /directories (src/guest/execd/directories-create.ts): `{ "<path>": {mode, owner?,
//! group?} }`, each created with its parents (mkdir -p) as the default user.
use hyper::body::Incoming;

use super::Execd;
use super::errors::ExecdResult;
use super::permissions::{Permission, apply_permission};
use super::request::read_by_path;
use crate::filesystem::make_dir::make_dir_as;
use crate::http::respond::{self, HttpResponse};

pub async fn create_directories(execd: &Execd, body: Incoming) -> ExecdResult<HttpResponse> {
    let dirs = read_by_path::<Permission>(body).await?;
    let user = execd.default_user()?;
    for (p, permission) in dirs {
        let path = execd.path(&p)?;
        make_dir_as(&user, &path)?;
        apply_permission(&path, &permission, &execd.guest.users)?;
    }
    Ok(respond::empty(200))
}
