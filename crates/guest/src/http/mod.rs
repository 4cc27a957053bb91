//! The guest's one HTTP/1.1 listener (src/guest/server.ts): envd's Connect services under their
//! procedure paths, the REST endpoints beside them, and CORS for the browser SDK, which talks
//! to envd directly.
mod as_user;
pub(crate) mod file_access;
pub(crate) mod files_get;
pub(crate) mod files_post;
mod heap_settled;
mod init;
pub mod metrics;
pub(crate) mod query;
pub mod respond;
pub mod rest;
mod server;

pub use server::{serve, serve_with};
