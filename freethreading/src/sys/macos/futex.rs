//! Waiting on a 32-bit word shared between processes. macOS 14.4 and later
//! offer `os_sync_wait_on_address` / `os_sync_wake_by_address_*` with
//! `OS_SYNC_*_SHARED`; older systems have the (private but long-stable)
//! `__ulock_wait` / `__ulock_wake` with `UL_COMPARE_AND_WAIT_SHARED`. Both are
//! looked up once with `dlsym`, so the binary links and runs on either.

use std::ffi::{CStr, c_int, c_void};
use std::sync::OnceLock;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

type OsSyncWait = unsafe extern "C" fn(*mut c_void, u64, usize, u32) -> c_int;
type OsSyncWaitTimeout = unsafe extern "C" fn(*mut c_void, u64, usize, u32, u32, u64) -> c_int;
type OsSyncWake = unsafe extern "C" fn(*mut c_void, usize, u32) -> c_int;
type UlockWait = unsafe extern "C" fn(u32, *mut c_void, u64, u32) -> c_int;
type UlockWake = unsafe extern "C" fn(u32, *mut c_void, u64) -> c_int;

/// `OS_SYNC_WAIT_ON_ADDRESS_SHARED` and `OS_SYNC_WAKE_BY_ADDRESS_SHARED`.
const OS_SYNC_SHARED: u32 = 1;
/// `OS_CLOCK_MACH_ABSOLUTE_TIME`, in nanoseconds for these calls.
const OS_CLOCK_MACH_ABSOLUTE_TIME: u32 = 32;
/// `UL_COMPARE_AND_WAIT_SHARED`, and `ULF_WAKE_ALL`.
const UL_COMPARE_AND_WAIT_SHARED: u32 = 3;
const ULF_WAKE_ALL: u32 = 0x100;
/// `ULF_NO_ERRNO`: results as negative error numbers, errno untouched.
const ULF_NO_ERRNO: u32 = 0x0100_0000;

/// The calls this system has.
enum Calls {
    OsSync {
        wait: OsSyncWait,
        wait_timeout: OsSyncWaitTimeout,
        wake_any: OsSyncWake,
        wake_all: OsSyncWake,
    },
    Ulock {
        wait: UlockWait,
        wake: UlockWake,
    },
}

fn symbol(name: &CStr) -> Option<*mut c_void> {
    // SAFETY: `dlsym` with `RTLD_DEFAULT` and a NUL-terminated name only
    // looks the symbol up; a missing one is null.
    let found = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    (!found.is_null()).then_some(found)
}

fn calls() -> &'static Calls {
    static CALLS: OnceLock<Calls> = OnceLock::new();
    CALLS.get_or_init(|| {
        let os_sync = (
            symbol(c"os_sync_wait_on_address"),
            symbol(c"os_sync_wait_on_address_with_timeout"),
            symbol(c"os_sync_wake_by_address_any"),
            symbol(c"os_sync_wake_by_address_all"),
        );
        if let (Some(wait), Some(wait_timeout), Some(wake_any), Some(wake_all)) = os_sync {
            // SAFETY: these symbols have these C signatures (<os/os_sync_wait_on_address.h>).
            return unsafe {
                Calls::OsSync {
                    wait: std::mem::transmute::<*mut c_void, OsSyncWait>(wait),
                    wait_timeout: std::mem::transmute::<*mut c_void, OsSyncWaitTimeout>(
                        wait_timeout,
                    ),
                    wake_any: std::mem::transmute::<*mut c_void, OsSyncWake>(wake_any),
                    wake_all: std::mem::transmute::<*mut c_void, OsSyncWake>(wake_all),
                }
            };
        }
        let (Some(wait), Some(wake)) = (symbol(c"__ulock_wait"), symbol(c"__ulock_wake")) else {
            panic!(
                "freethreading: this macOS has neither os_sync_wait_on_address nor __ulock_wait"
            );
        };
        // SAFETY: these symbols have these C signatures (xnu's sys/ulock.h),
        // exported by libSystem since macOS 10.12.
        unsafe {
            Calls::Ulock {
                wait: std::mem::transmute::<*mut c_void, UlockWait>(wait),
                wake: std::mem::transmute::<*mut c_void, UlockWake>(wake),
            }
        }
    })
}

/// Sleeps while `word` holds `expected`, until woken or `timeout` passes;
/// may return early, as futexes do.
pub(crate) fn wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
    let address = word.as_ptr().cast::<c_void>();
    match (calls(), timeout) {
        // SAFETY: `address` is a live 4-byte word for the whole call; these
        // calls only read it and sleep.
        (Calls::OsSync { wait, .. }, None) => unsafe {
            wait(address, u64::from(expected), 4, OS_SYNC_SHARED);
        },
        // SAFETY: as above.
        (Calls::OsSync { wait_timeout, .. }, Some(timeout)) => unsafe {
            let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX).max(1);
            wait_timeout(
                address,
                u64::from(expected),
                4,
                OS_SYNC_SHARED,
                OS_CLOCK_MACH_ABSOLUTE_TIME,
                nanos,
            );
        },
        // SAFETY: as above; a timeout of 0 means none, so at least 1 µs.
        (Calls::Ulock { wait, .. }, timeout) => unsafe {
            let micros = timeout.map_or(0, |t| {
                u32::try_from(t.as_micros()).unwrap_or(u32::MAX).max(1)
            });
            wait(
                UL_COMPARE_AND_WAIT_SHARED | ULF_NO_ERRNO,
                address,
                u64::from(expected),
                micros,
            );
        },
    }
}

/// Wakes up to `n` waiters on `word` (all of them for `u32::MAX`).
pub(crate) fn wake(word: &AtomicU32, n: u32) {
    let address = word.as_ptr().cast::<c_void>();
    match calls() {
        Calls::OsSync {
            wake_any, wake_all, ..
        } => {
            let wake = if n == 1 { wake_any } else { wake_all };
            // SAFETY: `address` is a live 4-byte word; waking only names it.
            unsafe { wake(address, 4, OS_SYNC_SHARED) };
        }
        // SAFETY: as above.
        Calls::Ulock { wake, .. } => unsafe {
            let all = if n == 1 { 0 } else { ULF_WAKE_ALL };
            wake(UL_COMPARE_AND_WAIT_SHARED | ULF_NO_ERRNO | all, address, 0);
        },
    }
}
