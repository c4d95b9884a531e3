//! Thread peers written by hand from std and crossbeam-channel: the floors of a
//! round trip, of a queue, and of an event hand-off between two threads.

use std::hint::black_box;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

use freethreading_benches::suite::Side;

use crate::ours::{id, why};

/// A thread answering each number sent to it: the floor of a round trip.
pub(crate) struct Echo {
    to: crossbeam_channel::Sender<u64>,
    from: crossbeam_channel::Receiver<u64>,
}

impl Echo {
    pub(crate) fn start() -> Echo {
        let (to, requests) = crossbeam_channel::unbounded::<u64>();
        let (replies, from) = crossbeam_channel::unbounded();
        // The thread ends when `to` is dropped with the Echo.
        thread::spawn(move || {
            for x in requests {
                if replies.send(id(x)).is_err() {
                    break;
                }
            }
        });
        Echo { to, from }
    }

    pub(crate) fn side<'a>(&'a self, name: &str, times: u64) -> Side<'a> {
        Side::new(name, move || {
            for i in 0..times {
                self.to.send(i).map_err(why)?;
                black_box(self.from.recv().map_err(why)?);
            }
            Ok(())
        })
    }
}

/// `items` through one crossbeam channel from `ends` std threads to `ends` others.
pub(crate) fn channel_side(ends: u64, items: u64) -> Side<'static> {
    Side::new("crossbeam-channel unbounded, std threads", move || {
        let (tx, rx) = crossbeam_channel::unbounded::<Option<u64>>();
        let consumers: Vec<_> = (0..ends)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || rx.iter().take_while(Option::is_some).count() as u64)
            })
            .collect();
        let producers: Vec<_> = (0..ends)
            .map(|_| {
                let tx = tx.clone();
                thread::spawn(move || {
                    (0..items / ends).for_each(|i| tx.send(Some(i)).expect("consumers are alive"));
                    tx.send(None).expect("consumers are alive");
                })
            })
            .collect();
        for p in producers {
            p.join().map_err(|_| "a producer panicked")?;
        }
        let got: u64 = consumers.into_iter().map(|c| c.join().unwrap_or(0)).sum();
        if got == items / ends * ends {
            Ok(())
        } else {
            Err(format!("{got} items arrived"))
        }
    })
}

struct Flag {
    set: Mutex<bool>,
    changed: Condvar,
}

impl Flag {
    fn set(&self) {
        *self.set.lock().expect("never poisoned") = true;
        self.changed.notify_all();
    }

    fn wait_and_clear(&self) {
        let mut set = self.set.lock().expect("never poisoned");
        while !*set {
            set = self.changed.wait(set).expect("never poisoned");
        }
        *set = false;
    }
}

pub(crate) fn std_ping_pong(times: u32) -> Result<(), String> {
    let new = || Flag {
        set: Mutex::new(false),
        changed: Condvar::new(),
    };
    let flags = Arc::new((new(), new()));
    let other = Arc::clone(&flags);
    let t = thread::spawn(move || {
        for _ in 0..times {
            other.0.wait_and_clear();
            other.1.set();
        }
    });
    for _ in 0..times {
        flags.0.set();
        flags.1.wait_and_clear();
    }
    t.join().map_err(|_| "panicked".to_owned())
}
