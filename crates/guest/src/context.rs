//! What every handler is given (src/guest/context.ts): the settings POST /init may change while
//! the guest runs, the sandbox's user database, and the REST routes' own state. Built once in main.rs and shared by reference.
use std::collections::BTreeMap;
use std::sync::RwLock;

use crate::http::metrics::Metrics;
use crate::users::UserDb;

/// Settings that POST /init may change while the guest runs (fork or restore re-keying).
#[derive(Debug, Clone)]
pub struct GuestState {
    /// None = requests need no X-Access-Token.
    pub access_token: Option<String>,
    pub env_vars: BTreeMap<String, String>,
    pub default_user: String,
    pub default_workdir: Option<String>,
}

pub struct Guest {
    pub state: RwLock<GuestState>,
    pub users: UserDb,
    /// Guards POST /init, which may replace it; apart from GuestState, which requests copy.
    pub init_secret: RwLock<String>,
    /// GET /metrics's CPU sample from its previous call.
    pub metrics: Metrics,
}

impl Guest {
    /// A copy of the current settings; requests read them once so a re-key mid-request is not half seen.
    pub fn state(&self) -> GuestState {
        self.state.read().unwrap().clone()
    }
}
