//! What the runners' public errors share, written once: [`PoolError`],
//! [`ExecutorError`] and [`WorkerError`] each keep their own variants (users
//! match on them), but the failed task's error, its panic, and the
//! conversions from a [`TaskError`] or a [`RegistryError`] are the same code
//! for all three.
//!
//! [`PoolError`]: crate::PoolError
//! [`ExecutorError`]: crate::ExecutorError
//! [`WorkerError`]: crate::WorkerError
//! [`TaskError`]: crate::TaskError
//! [`RegistryError`]: crate::RegistryError

/// For a public error enum with `Task(TaskError)` and
/// `Registry(RegistryError)` variants: `task_error`, `is_panic` and
/// `panic_message` (with the doc comments written before the enum's name
/// appended to each one's own, for an example that shows all three), and the
/// `From` conversions of both.
macro_rules! task_error_accessors {
    ($(#[$doc:meta])* $error:ident) => {
        impl $error {
            /// The task's error, when the task itself failed.
            ///
            $(#[$doc])*
            pub fn task_error(&self) -> ::core::option::Option<&$crate::TaskError> {
                match self {
                    $error::Task(error) => ::core::option::Option::Some(error),
                    _ => ::core::option::Option::None,
                }
            }

            /// Whether the task panicked.
            ///
            $(#[$doc])*
            pub fn is_panic(&self) -> bool {
                self.task_error().is_some_and($crate::TaskError::is_panic)
            }

            /// The task's panic message, when it panicked with a string.
            ///
            $(#[$doc])*
            pub fn panic_message(&self) -> ::core::option::Option<&str> {
                self.task_error()
                    .and_then($crate::TaskError::panic_message)
            }
        }

        impl ::core::convert::From<$crate::TaskError> for $error {
            fn from(error: $crate::TaskError) -> Self {
                $error::Task(error)
            }
        }

        impl ::core::convert::From<$crate::RegistryError> for $error {
            fn from(error: $crate::RegistryError) -> Self {
                $error::Registry(error)
            }
        }
    };
}

pub(crate) use task_error_accessors;
