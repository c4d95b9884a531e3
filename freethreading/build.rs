//! Defines `process_backend`, the cfg under which the crate has process
//! workers: on Linux (with `--cfg freethreading_posix` the POSIX pieces
//! stand in for the Linux-only ones), macOS and Windows. Everything above `sys/` asks this cfg,
//! never the target, so a new system is one line here and a `sys/` layer.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(process_backend)");
    println!("cargo::rustc-check-cfg=cfg(freethreading_posix)");
    println!("cargo::rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "macos" || os == "windows" {
        println!("cargo::rustc-cfg=process_backend");
    }
}
