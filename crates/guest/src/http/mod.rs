//! The guest's one HTTP/1.1 listener (src/guest/server.ts): envd's Connect services under their
//! procedure paths, the REST endpoints beside them, and CORS for the browser SDK, which talks
//! to envd directly.
pub mod respond;
pub mod rest;
mod server;

pub use server::serve;
