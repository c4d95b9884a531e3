//! Windows: re-executing this binary with a channel as standard input, the
//! arena handed over by `DuplicateHandle`, what ended a process (an
//! exception code, in words), and workers that die with their parent: a
//! job object that kills its processes when the parent's last handle to it
//! closes (at the parent's death, however it dies), and in each worker a
//! thread watching the parent's process handle.

use std::ffi::OsString;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, Read, Write};
use std::os::windows::io::{AsRawHandle, BorrowedHandle, FromRawHandle, OwnedHandle, RawHandle};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use windows_sys::Win32::Foundation::{
    DUPLICATE_SAME_ACCESS, DuplicateHandle, ERROR_INTERNAL_ERROR, HANDLE, WAIT_OBJECT_0,
};
use windows_sys::Win32::Storage::FileSystem::{
    CreateFileW, FILE_SHARE_READ, FILE_SHARE_WRITE, OPEN_EXISTING,
};
use windows_sys::Win32::System::Console::{
    GetStdHandle, STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, SetStdHandle,
};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
    SetInformationJobObject,
};
use windows_sys::Win32::System::Pipes::GetNamedPipeServerProcessId;
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, INFINITE, OpenProcess, PROCESS_DUP_HANDLE,
    PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SYNCHRONIZE, WaitForSingleObject,
};

pub(crate) use super::channel::{
    Channel, read_into, read_now_into, send, send_vectored, wait_readable,
};

/// Whether this platform can run process workers.
pub(crate) const PROCESSES_SUPPORTED: bool = true;

/// Windows has no signals: a process ends with an exit code, which
/// [`exit_code_name`] reads.
pub(crate) fn exit_signal(_status: std::process::ExitStatus) -> Option<i32> {
    None
}

pub(crate) fn signal_name(_signal: i32) -> Option<&'static str> {
    None
}

/// [`describe_exit`] of an exit code as `std` gives it (an `i32`).
pub(crate) fn exit_code_name(code: i32) -> Option<&'static str> {
    describe_exit(u32::from_ne_bytes(code.to_ne_bytes()))
}

/// What an exit code says, when it is an exception or a kill rather than a
/// code the program chose: `None` for those.
pub(crate) fn describe_exit(code: u32) -> Option<&'static str> {
    Some(match code {
        0xC000_0005 => "access violation (0xC0000005)",
        0xC000_0409 => "stack buffer overrun or abort (0xC0000409)",
        0xC000_00FD => "stack overflow (0xC00000FD)",
        0xC000_001D => "illegal instruction (0xC000001D)",
        0xC000_0094 => "integer division by zero (0xC0000094)",
        0xC000_0095 => "integer overflow (0xC0000095)",
        0xC000_0017 => "out of memory (0xC0000017)",
        0xC000_013A => "ended by Ctrl+C (0xC000013A)",
        0x4001_0004 => "terminated by a debugger (0x40010004)",
        0xC000_0374 => "heap corruption (0xC0000374)",
        0x8000_0003 => "breakpoint (0x80000003)",
        // `abort()` of the C runtime, and std's `process::abort`'s fallback.
        3 => "aborted (exit code 3)",
        _ => return None,
    })
}

/// Whether child `pid` has ended; its handle, held by the parent's `Child`,
/// keeps the id its own until it is reaped.
pub(crate) fn has_exited(pid: u32) -> bool {
    // SAFETY: plain call; a null handle is checked.
    let Ok(process) = super::owned(unsafe { OpenProcess(PROCESS_SYNCHRONIZE, 0, pid) }) else {
        return false;
    };
    // SAFETY: a live process handle opened with SYNCHRONIZE.
    unsafe { WaitForSingleObject(process.as_raw_handle(), 0) == WAIT_OBJECT_0 }
}

fn this_executable() -> io::Result<std::path::PathBuf> {
    std::env::current_exe()
}

/// A fingerprint of the running executable (path, size, write time), the
/// same in every process started from the same file. Windows cannot replace
/// a running executable, so the file cannot change under a parent.
pub(crate) fn build_id() -> u64 {
    static ID: OnceLock<u64> = OnceLock::new();
    *ID.get_or_init(|| {
        let mut hasher = DefaultHasher::new();
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        if let Ok(path) = this_executable() {
            path.hash(&mut hasher);
            if let Ok(meta) = std::fs::metadata(&path) {
                meta.len().hash(&mut hasher);
                meta.modified().ok().hash(&mut hasher);
            }
        }
        hasher.finish()
    })
}

/// A command that starts this binary again with `channel`'s client end as
/// its standard input. `std` makes only the three standard handles
/// inheritable for the child, under its own lock, so no other worker's
/// channel leaks into it. `arg0` has no meaning on Windows.
pub(crate) fn command_for_worker(_arg0: Option<OsString>, channel: Channel) -> Command {
    let path = this_executable().unwrap_or_default();
    let mut command = Command::new(path);
    if let Some(handle) = channel.into_handle() {
        command.stdin(Stdio::from(handle));
    }
    command
}

/// Starts the worker `command` describes. Wine 8's `CreateProcessW` fails
/// now and then with `ERROR_INTERNAL_ERROR` while many processes start and
/// end at once (about once in a thousand starts in the failure tests):
/// that error is tried again, twice at most. The command can start again,
/// since `std` duplicates its standard handles for each child.
pub(crate) fn spawn(command: &mut Command) -> io::Result<std::process::Child> {
    let mut tries = 0;
    loop {
        match command.spawn() {
            Err(e) if super::is(&e, ERROR_INTERNAL_ERROR) && tries < 2 => tries += 1,
            other => return other,
        }
    }
}

/// Whether standard input is a pipe whose server end process `parent` made:
/// what tells a real worker from a program that merely inherited the
/// environment variable.
pub(crate) fn stdin_is_channel_from(parent: u32) -> bool {
    let mut server = 0;
    // SAFETY: the standard input handle (maybe null or not a pipe: then the
    // call fails) and a writable u32.
    let ok =
        unsafe { GetNamedPipeServerProcessId(GetStdHandle(STD_INPUT_HANDLE), &raw mut server) };
    ok != 0 && server == parent
}

fn open_null() -> io::Result<OwnedHandle> {
    let name = super::wide("NUL");
    // SAFETY: plain call with a NUL-terminated name.
    let null = unsafe {
        CreateFileW(
            name.as_ptr(),
            windows_sys::Win32::Foundation::GENERIC_READ,
            FILE_SHARE_READ | FILE_SHARE_WRITE,
            std::ptr::null(),
            OPEN_EXISTING,
            0,
            std::ptr::null_mut(),
        )
    };
    if null == windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    super::owned(null)
}

/// In a worker: takes the channel inherited as standard input, and puts
/// `NUL` there instead, so that a task reading standard input reads nothing
/// rather than the protocol.
pub(crate) fn take_inherited_channel() -> io::Result<Channel> {
    let null = open_null()?;
    // SAFETY: plain call.
    let stdin = unsafe { GetStdHandle(STD_INPUT_HANDLE) };
    // SAFETY: `null` stays open for the process's life once set (leaked).
    super::check(unsafe { SetStdHandle(STD_INPUT_HANDLE, null.as_raw_handle()) })?;
    std::mem::forget(null);
    // SAFETY: the inherited standard input, no longer reachable as such:
    // this process's only owner of it from now on.
    let stdin = unsafe { OwnedHandle::from_raw_handle(stdin) };
    Ok(Channel::from_client(stdin))
}

/// In a worker: a thread that waits on the parent's process handle and
/// ends this process when the parent ends (the job object kills workers
/// too, but only if the parent made one; this also covers a parent that
/// runs inside a job that forbids nested ones). The parent must have been
/// created before this process, or the id is already another's.
pub(crate) fn die_with_parent(parent: u32) -> io::Result<()> {
    // SAFETY: plain call; a null handle is checked.
    let handle = super::owned(unsafe {
        OpenProcess(
            PROCESS_SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION,
            0,
            parent,
        )
    })
    .map_err(|_| io::Error::other("the parent process is gone"))?;
    let born = super::pid::start_time_unreaped(parent);
    if born.is_none_or(|born| Some(born) > super::pid::own_start_time()) || has_exited(parent) {
        return Err(io::Error::other("the parent process is gone"));
    }
    std::thread::Builder::new()
        .name("freethreading-parent-watch".into())
        .spawn(move || {
            // SAFETY: a live process handle opened with SYNCHRONIZE.
            unsafe { WaitForSingleObject(handle.as_raw_handle(), INFINITE) };
            std::process::exit(1);
        })?;
    Ok(())
}

/// The job object that holds every worker of this process, made on first
/// use; its only handle is leaked, so the kernel closes it, and kills the
/// workers, exactly when this process ends.
fn job() -> io::Result<HANDLE> {
    static JOB: OnceLock<usize> = OnceLock::new();
    if let Some(&job) = JOB.get() {
        return Ok(job as HANDLE);
    }
    // SAFETY: plain call: an unnamed job with default security.
    let job = super::owned(unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) })?;
    // SAFETY: all-zero is a valid limit structure (no limits).
    let mut limits: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    #[allow(clippy::cast_possible_truncation, reason = "a small structure")]
    let size = size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32;
    // SAFETY: a live job handle and a structure of the size given.
    super::check(unsafe {
        SetInformationJobObject(
            job.as_raw_handle(),
            JobObjectExtendedLimitInformation,
            (&raw const limits).cast(),
            size,
        )
    })?;
    let raw = job.as_raw_handle() as usize;
    if JOB.set(raw).is_ok() {
        std::mem::forget(job);
    }
    Ok(*JOB.get().unwrap_or(&raw) as HANDLE)
}

/// Puts a new worker in this process's job, so that it dies with us.
pub(crate) fn kill_with_this_process(child: &std::process::Child) -> io::Result<()> {
    // SAFETY: a live job handle and the child's live process handle.
    super::check(unsafe { AssignProcessToJobObject(job()?, child.as_raw_handle()) })
}

/// Duplicates `handle` of this process into process `pid`: the value it
/// has there.
fn duplicate_into(pid: u32, handle: RawHandle) -> io::Result<u64> {
    // SAFETY: plain call; a null handle is checked.
    let target = super::owned(unsafe { OpenProcess(PROCESS_DUP_HANDLE, 0, pid) })?;
    let mut theirs: HANDLE = std::ptr::null_mut();
    // SAFETY: live handles of this process and of the target; `theirs` is
    // only a number here, meaningful in the target.
    super::check(unsafe {
        DuplicateHandle(
            GetCurrentProcess(),
            handle,
            target.as_raw_handle(),
            &raw mut theirs,
            0,
            0,
            DUPLICATE_SAME_ACCESS,
        )
    })?;
    Ok(theirs as u64)
}

/// Sends worker `child` the arena and, if `stdout`, this process's standard
/// output: each handle is duplicated into it and its value sent, after a
/// byte saying which came (bit 0 the arena, bit 1 standard output).
pub(crate) fn send_descriptors(
    channel: &Channel,
    child: u32,
    arena: Option<BorrowedHandle<'_>>,
    stdout: bool,
) -> io::Result<()> {
    let mut message = [0_u8; 17];
    if let Some(arena) = arena {
        message[0] |= 1;
        message[1..9].copy_from_slice(&duplicate_into(child, arena.as_raw_handle())?.to_le_bytes());
    }
    if stdout {
        message[0] |= 2;
        // SAFETY: plain call.
        let out = unsafe { GetStdHandle(STD_OUTPUT_HANDLE) };
        message[9..].copy_from_slice(&duplicate_into(child, out)?.to_le_bytes());
    }
    (&*channel).write_all(&message)
}

/// Receives what [`send_descriptors`] sent: the arena and the parent's
/// standard output, each if it came, now handles of this process.
pub(crate) fn receive_descriptors(
    channel: &Channel,
) -> io::Result<(Option<OwnedHandle>, Option<OwnedHandle>)> {
    let mut message = [0_u8; 17];
    (&*channel).read_exact(&mut message)?;
    if message[0] > 3 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the parent's handle message is garbled",
        ));
    }
    let take = |bit: u8, at: usize| {
        (message[0] & bit != 0).then(|| {
            let mut value = [0; 8];
            value.copy_from_slice(&message[at..at + 8]);
            // SAFETY: the parent duplicated this handle into this process
            // for us alone; nothing else knows its value.
            unsafe { OwnedHandle::from_raw_handle(u64::from_le_bytes(value) as RawHandle) }
        })
    };
    Ok((take(1, 1), take(2, 9)))
}

/// In a worker: makes `handle` (the parent's standard output) this
/// process's standard output.
pub(crate) fn adopt_stdout(handle: OwnedHandle) -> io::Result<()> {
    // SAFETY: a live handle, leaked below so it stays valid as stdout.
    super::check(unsafe { SetStdHandle(STD_OUTPUT_HANDLE, handle.as_raw_handle()) })?;
    std::mem::forget(handle);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_codes_are_named() {
        assert_eq!(
            describe_exit(0xC000_0005),
            Some("access violation (0xC0000005)")
        );
        assert!(describe_exit(0x4001_0004).unwrap().contains("debugger"));
        assert_eq!(describe_exit(1), None);
        assert_eq!(describe_exit(0), None);
    }

    #[test]
    fn the_build_id_is_stable() {
        assert_eq!(build_id(), build_id());
    }

    #[test]
    fn a_handle_sent_to_ourselves_arrives() {
        let (a, b) = Channel::pair().unwrap();
        let section = super::super::memfd::create(4096).unwrap();
        send_descriptors(
            &a,
            std::process::id(),
            Some(std::os::windows::io::AsHandle::as_handle(&section)),
            false,
        )
        .unwrap();
        let (arena, stdout) = receive_descriptors(&b).unwrap();
        let arena = arena.expect("the arena came");
        assert!(stdout.is_none());
        assert_eq!(
            super::super::memfd::len(std::os::windows::io::AsHandle::as_handle(&arena)).unwrap(),
            4096
        );
        assert!(
            !stdin_is_channel_from(std::process::id()),
            "the test's stdin is no channel"
        );
        assert!(!has_exited(std::process::id()));
    }
}
