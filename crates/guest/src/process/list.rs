//! List: the running processes started through the guest (src/guest/process/list.ts).
use buffa::MessageField;

use super::Processes;
use crate::proto::process::{ListResponse, ProcessConfig, ProcessInfo};

pub fn list(processes: &Processes) -> ListResponse {
    let processes = processes
        .registry
        .running()
        .iter()
        .map(|h| ProcessInfo {
            pid: h.pid as u32,
            tag: h.tag.clone(),
            config: MessageField::some(ProcessConfig {
                cmd: h.spec.cmd.clone(),
                args: h.spec.args.clone(),
                envs: h.spec.envs.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                cwd: h.spec.cwd.clone(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    ListResponse { processes, ..Default::default() }
}
