//! Generates the envd messages and service traits from spec/envd/*.proto, the same files the
//! TypeScript guest is generated from (scripts/generate.mjs). The descriptor set comes from the
//! repository's own `buf` (npm package @bufbuild/buf), so no protoc is needed.
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let spec = root.join("spec/envd");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("envd.binpb");
    let buf = root.join("node_modules/.bin/buf");
    let status = Command::new(&buf)
        .arg("build").arg(&spec)
        .arg("--as-file-descriptor-set").arg("-o").arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; run `npm ci` in the repository first", buf.display()));
    assert!(status.success(), "buf build {} failed", spec.display());
    println!("cargo:rerun-if-changed={}", spec.display());
    // Maps (a file's metadata) as BTreeMap, not HashMap: their entries then leave in one order,
    // the keys', instead of a different one each time.
    let mut messages = connectrpc_build::CodeGenConfig::default();
    messages.generate_json = true;
    messages.map_fields = vec![(".".into(), buffa_codegen::MapRepr::BTreeMap)];
    connectrpc_build::Config::new()
        .buffa_config(messages)
        .descriptor_set(&out)
        .files(&["process.proto", "filesystem.proto"])
        .include_file("_connectrpc.rs")
        .compile()
        .expect("generating the envd services");
}
