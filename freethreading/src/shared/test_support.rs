//! Test-only helpers: the process flavor on demand, and child processes of
//! the test binary that share this process's arena.
//!
//! A cross-process test is one `#[test]` that plays both roles: run plainly it
//! is the parent, spawns its own binary on itself (`--exact`) with the arena
//! dup'ed onto [`CHILD_FD`] and a role in the environment, and in the child
//! [`child_role`] says which part to play.

use std::cell::Cell;
#[cfg(unix)]
use std::mem::ManuallyDrop;
#[cfg(unix)]
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
#[cfg(unix)]
use std::os::unix::process::CommandExt;
#[cfg(unix)]
use std::process::{Child, Command, Stdio};

use super::Arena;

thread_local! {
    pub(crate) static FORCE: Cell<bool> = const { Cell::new(false) };
    pub(crate) static MAPPING: Cell<Option<&'static Arena>> = const { Cell::new(None) };
}

/// A second mapping of this process's arena, at another address, as another
/// process would map it.
pub(crate) fn second_mapping() -> &'static Arena {
    static SECOND: std::sync::OnceLock<&'static Arena> = std::sync::OnceLock::new();
    SECOND.get_or_init(|| {
        let fd = super::global()
            .expect("arena")
            .fd()
            .try_clone_to_owned()
            .expect("dup");
        Box::leak(Box::new(Arena::open(fd).expect("second mapping")))
    })
}

/// Decodes `bytes` (a serialized primitive) against the second mapping.
pub(crate) fn decode_in_second_mapping<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> T {
    MAPPING.with(|m| m.set(Some(second_mapping())));
    let value = crate::codec::decode(bytes);
    MAPPING.with(|m| m.set(None));
    value.expect("a handle valid in the second mapping")
}

/// A copy of `value` that reaches it through the second mapping.
pub(crate) fn via_second_mapping<T: serde::Serialize + serde::de::DeserializeOwned>(
    value: &T,
) -> T {
    decode_in_second_mapping(&crate::codec::encode(value).expect("encode"))
}

/// Runs `f` with new primitives made in their process flavor.
pub(crate) fn process<R>(f: impl FnOnce() -> R) -> R {
    FORCE.with(|force| force.set(true));
    let result = f();
    FORCE.with(|force| force.set(false));
    result
}

// Children sharing the arena by descriptor number: Unix only for now.
#[cfg(unix)]
const CHILD_FD: i32 = 100;
#[cfg(unix)]
const ROLE: &str = "FREETHREADING_TEST_ROLE";
#[cfg(unix)]
const PAYLOAD: &str = "FREETHREADING_TEST_PAYLOAD";

#[cfg(unix)]
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(unix)]
fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex payload"))
        .collect()
}

#[cfg(unix)]
/// In a child spawned by [`spawn_child`]: its role and payload, with the
/// parent's arena adopted. `None` in the parent.
pub(crate) fn child_role() -> Option<(String, Vec<u8>)> {
    let role = std::env::var(ROLE).ok()?;
    // SAFETY: the parent dup'ed the arena onto CHILD_FD for this process,
    // and nothing else in the child owns that descriptor.
    let fd = unsafe { OwnedFd::from_raw_fd(CHILD_FD) };
    super::adopt_arena(fd).expect("adopting the parent's arena");
    let payload = unhex(&std::env::var(PAYLOAD).unwrap_or_default());
    Some((role, payload))
}

#[cfg(unix)]
/// Spawns this test binary running only `test` (its full path), as `role`,
/// sharing the arena, with `payload` (serialized handles) to read.
pub(crate) fn spawn_child(test: &str, role: &str, payload: &[u8]) -> Child {
    let fd = super::arena_fd_for_child().expect("arena").as_raw_fd();
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    command
        .args([
            test,
            "--exact",
            "--nocapture",
            "--test-threads=1",
            "--quiet",
            "--include-ignored",
        ])
        .env(ROLE, role)
        .env(PAYLOAD, hex(payload))
        .env_remove("FREETHREADING_BACKEND")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    // SAFETY: `dup2` is async-signal-safe and touches only descriptors; the
    // closure allocates nothing, as a hook between fork and exec must not.
    // The arena's descriptor stays open in the parent until `spawn` returns,
    // so `fd` names it in the forked child too; `CHILD_FD` is wrapped only
    // to name `dup2`'s target, and never dropped (closed) or read.
    unsafe {
        command.pre_exec(move || {
            let arena = BorrowedFd::borrow_raw(fd);
            let mut target = ManuallyDrop::new(OwnedFd::from_raw_fd(CHILD_FD));
            rustix::io::dup2(arena, &mut target)?;
            Ok(())
        });
    }
    command.spawn().expect("spawning the test binary")
}

#[cfg(unix)]
/// Waits for `child` and checks it passed.
pub(crate) fn expect_success(mut child: Child) {
    let status = child.wait().expect("waiting for the child");
    assert!(status.success(), "child failed: {status}");
}

#[cfg(unix)]
/// Kills `child` with SIGKILL and reaps it.
pub(crate) fn kill(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// How many wait on a condition, as its `Debug` (or its guard's) shows.
pub(crate) fn waiting_in(debug: &impl std::fmt::Debug) -> usize {
    format!("{debug:?}")
        .rsplit("waiting: ")
        .next()
        .and_then(|rest| rest.trim_end_matches([' ', '}']).parse().ok())
        .expect("Debug shows the waiters")
}
