//! The wire's ProcessSelector as a registry selector (src/guest/process/selector.ts).
use super::registry::Selector;
use crate::error::{Code, GuestError, GuestResult};
use crate::proto::process::ProcessSelector;
use crate::proto::process::process_selector::Selector as Wire;

pub fn selector(sel: Option<ProcessSelector>) -> GuestResult<Selector> {
    match sel.and_then(|s| s.selector) {
        Some(Wire::Pid(pid)) => Ok(Selector::Pid(pid)),
        Some(Wire::Tag(tag)) => Ok(Selector::Tag(tag)),
        None => Err(GuestError::new(Code::InvalidArgument, "process selector needs a pid or a tag")),
    }
}
