//! What a worker rank asks of rank 0's primitive service, and the answers:
//! one [`Request`] per operation on one object, postcard on tag `SERVE`;
//! one [`Answer`] back on tag `SERVED`, carrying the request's number so that
//! several threads of one rank waiting at once each find their own.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::queue::wait::Wait;

/// How long an operation may block, as a span rather than an instant:
/// ranks on other hosts share no clock.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) enum Patience {
    Never,
    Micros(u64),
    Forever,
}

impl Patience {
    /// The span left until `deadline` (`None`: forever).
    pub(crate) fn until(deadline: Option<Instant>) -> Self {
        match deadline {
            None => Patience::Forever,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                Patience::Micros(u64::try_from(left.as_micros()).unwrap_or(u64::MAX))
            }
        }
    }

    /// A queue's [`Wait`] as a span.
    pub(crate) fn of_wait(wait: Wait) -> Self {
        match wait {
            Wait::Never => Patience::Never,
            Wait::Until(deadline) => Patience::until(Some(deadline)),
            Wait::Forever => Patience::Forever,
        }
    }

    /// The deadline it gives from now (`None`: forever).
    pub(crate) fn deadline(self) -> Option<Instant> {
        match self {
            Patience::Never => Some(Instant::now()),
            Patience::Micros(micros) => Instant::now().checked_add(Duration::from_micros(micros)),
            Patience::Forever => None,
        }
    }

    /// As a queue's [`Wait`].
    pub(crate) fn wait(self) -> Wait {
        match self {
            Patience::Never => Wait::Never,
            Patience::Micros(micros) => Wait::timeout(Duration::from_micros(micros)),
            Patience::Forever => Wait::Forever,
        }
    }
}

/// A primitive to make on rank 0, asked for by a worker rank.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Kind {
    Lock,
    RLock,
    Semaphore {
        value: u64,
        bounded: bool,
    },
    Event,
    /// Over the lock (a `Lock` or an `RLock`) with this id.
    Condition {
        lock: u64,
    },
    Barrier {
        parties: u64,
    },
    Queue {
        maxsize: u64,
    },
    SimpleQueue,
}

impl Kind {
    pub(crate) const LOCK: u8 = 1;
    pub(crate) const RLOCK: u8 = 2;
    pub(crate) const SEMAPHORE: u8 = 3;
    pub(crate) const EVENT: u8 = 4;
    pub(crate) const CONDITION: u8 = 5;
    pub(crate) const BARRIER: u8 = 6;
    pub(crate) const QUEUE: u8 = 7;
    pub(crate) const SIMPLE_QUEUE: u8 = 8;

    /// The kind as a handle carries it.
    pub(crate) fn code(&self) -> u8 {
        match self {
            Kind::Lock => Kind::LOCK,
            Kind::RLock => Kind::RLOCK,
            Kind::Semaphore { .. } => Kind::SEMAPHORE,
            Kind::Event => Kind::EVENT,
            Kind::Condition { .. } => Kind::CONDITION,
            Kind::Barrier { .. } => Kind::BARRIER,
            Kind::Queue { .. } => Kind::QUEUE,
            Kind::SimpleQueue => Kind::SIMPLE_QUEUE,
        }
    }

    /// The primitive type a code names, for errors.
    pub(crate) fn name_of(code: u8) -> &'static str {
        match code {
            Kind::LOCK => "Lock",
            Kind::RLOCK => "RLock",
            Kind::SEMAPHORE => "Semaphore",
            Kind::EVENT => "Event",
            Kind::CONDITION => "Condition",
            Kind::BARRIER => "Barrier",
            Kind::QUEUE => "Queue",
            Kind::SIMPLE_QUEUE => "SimpleQueue",
            _ => "primitive of an unknown kind",
        }
    }
}

/// One operation. Those of a lock (`Acquire` to `Snapshot`) also apply to a
/// `Condition`, meaning its lock.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Op {
    /// Make a primitive; answered with its id.
    Create(Kind),
    /// The primitive, made by the asking rank, was dropped there without
    /// ever being sent: rank 0 lets it go. Not answered.
    Forget,
    Acquire(Patience),
    Release,
    Locked,
    IsOwned,
    /// An `RLock`'s owner and count.
    Snapshot,
    /// A `Condition`'s lock given up entirely; answered with the levels.
    ReleaseSave,
    AcquireRestore(u64),
    ReleaseN(u64),
    Value,
    Bound,
    Set,
    Clear,
    IsSet,
    /// An `Event`'s or a `Condition`'s wait (the latter's lock held).
    Wait(Patience),
    Notify(u64),
    NWaiting,
    /// A `Barrier`'s wait, with its own timeout or the barrier's default.
    Meet(Option<Patience>),
    SetTimeout(Option<Duration>),
    /// A `Barrier`'s action, a registered task found by name.
    SetAction(String),
    /// The barrier action that [`Answer::RunAction`] asked for has run
    /// (`true`) or failed: sent with the number of the wait that asked.
    ActionDone(bool),
    Reset,
    Abort,
    Parties,
    Broken,
    /// An item, a message of `codec/message.rs`.
    Put(#[serde(with = "serde_bytes")] Vec<u8>, Patience),
    Get(Patience),
    TaskDone,
    Join(Patience),
    QSize,
    Unfinished,
    MaxSize,
}

/// A request to the service.
#[derive(Serialize, Deserialize)]
pub(crate) struct Request {
    /// Numbers the requests of one rank; the answer carries it back.
    pub(crate) number: u64,
    /// The object (0 for [`Op::Create`]).
    pub(crate) object: u64,
    /// The calling thread's identity on its rank, for an `RLock`'s owner.
    pub(crate) thread: u64,
    pub(crate) op: Op,
}

/// What an operation gives back.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) enum Answer {
    Done,
    Bool(bool),
    Count(u64),
    /// An `RLock`'s owner and count.
    Snapshot(Option<u64>, u64),
    /// A barrier's arrival index, or `None` when it broke.
    Index(Option<u64>),
    /// A queue's item.
    Item(#[serde(with = "serde_bytes")] Vec<u8>),
    /// The operation could not be done now (a full queue, an empty one, a
    /// lock taken, a deadline passed).
    Refused,
    /// A misuse the primitive reports, turned back into its error type by
    /// the caller.
    Misuse(Misuse),
    /// The request itself failed: an unknown object, a wrong kind.
    Failed(String),
    /// Not yet the answer to a barrier's wait: this party arrived last, and
    /// runs the barrier's action (a task, by name) before anyone goes on,
    /// then says so with [`Op::ActionDone`]; the answer follows.
    RunAction(String),
}

/// The misuses a primitive reports as errors.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) enum Misuse {
    Unlocked,
    NotOwner,
    OverReleased,
    WaitUnacquired,
    NotifyUnacquired,
    TaskDone,
}

/// The service's answer to request `number`.
#[derive(Serialize, Deserialize)]
pub(crate) struct Reply {
    pub(crate) number: u64,
    pub(crate) answer: Answer,
}

impl Misuse {
    /// As a release's error.
    pub(crate) fn release(self) -> crate::ReleaseError {
        match self {
            Misuse::Unlocked => crate::ReleaseError::Unlocked,
            Misuse::OverReleased => crate::ReleaseError::TooManyReleases,
            _ => crate::ReleaseError::NotOwner,
        }
    }

    /// As a condition's error.
    pub(crate) fn condition(self) -> crate::ConditionError {
        match self {
            Misuse::NotifyUnacquired => crate::ConditionError::NotifyUnacquired,
            _ => crate::ConditionError::WaitUnacquired,
        }
    }
}
