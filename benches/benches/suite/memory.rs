//! Workload 10: resident memory of idle pools of worker processes, ours and
//! procspawn's, read from `/proc` (see `freethreading_benches::memory`).

use std::thread;
use std::time::Duration;

use freethreading::WorkerPool;
use freethreading_benches::Mode;
use freethreading_benches::memory::{children, new_children_kib};
use freethreading_benches::suite::{Figure, Suite, Unit};

use crate::ours::{square, why};
use crate::processes::OURS;

/// Workload 10: resident memory of an idle pool of 2 workers, and per extra worker.
pub(crate) fn workload(suite: &Suite, unavailable: Option<&str>, mode: Mode) {
    if !suite.wanted("memory_rss_2") {
        return;
    }
    let rounds = if mode == Mode::Smoke { 1 } else { 3 };
    let ours_figures = match unavailable {
        None => pool_memory(rounds, |workers| {
            let pool = WorkerPool::new(workers).map_err(why)?;
            // Every worker has run a task, so every process is up and warm.
            pool.map_chunked(square, 0..workers as u64 * 4, 1)
                .map_err(why)?;
            Ok(Box::new(pool))
        }),
        Some(reason) => [(); 4].map(|()| Err(reason.to_owned())),
    };
    let peer_figures = pool_memory(rounds, |workers| {
        let pool = procspawn::Pool::new(workers).map_err(why)?;
        let handles: Vec<_> = (0..workers as u64 * 4)
            .map(|i| pool.spawn(i, |x: u64| square(x)))
            .collect();
        for h in handles {
            h.join().map_err(why)?;
        }
        Ok(Box::new(ShutDown(pool)))
    });
    let labels = [
        (
            "memory_rss_2",
            "idle pool of 2 processes: VmRSS of the workers",
        ),
        (
            "memory_rss_extra",
            "VmRSS per extra worker ((pool of 4 − pool of 2) / 2)",
        ),
        (
            "memory_pss_2",
            "idle pool of 2 processes: Pss of the workers",
        ),
        (
            "memory_pss_extra",
            "Pss per extra worker ((pool of 4 − pool of 2) / 2)",
        ),
    ];
    for (((key, label), ours), peer) in labels.into_iter().zip(ours_figures).zip(peer_figures) {
        suite.report(
            key,
            label,
            Unit::KiB,
            &[(OURS.to_owned(), ours), ("procspawn Pool".to_owned(), peer)],
        );
    }
}

struct ShutDown(procspawn::Pool);

impl Drop for ShutDown {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

type Figures = [Result<Figure, String>; 4];

/// RSS of 2, RSS per extra, PSS of 2, PSS per extra, over `rounds` pools of 2 and of 4.
fn pool_memory(
    rounds: usize,
    mut make: impl FnMut(usize) -> Result<Box<dyn std::any::Any>, String>,
) -> Figures {
    let mut measure = |workers: usize| -> Result<(f64, f64), String> {
        let before = children();
        let pool = make(workers)?;
        thread::sleep(Duration::from_millis(100)); // let the workers go idle
        let (rss, pss, found) = new_children_kib(&before)?;
        drop(pool);
        if found < workers {
            return Err(format!("found {found} of {workers} worker processes"));
        }
        Ok((rss, pss))
    };
    let mut samples = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..rounds {
        let two = measure(2);
        let four = measure(4);
        match (two, four) {
            (Ok(two), Ok(four)) => {
                samples[0].push(two.0);
                samples[1].push((four.0 - two.0) / 2.0);
                samples[2].push(two.1);
                samples[3].push((four.1 - two.1) / 2.0);
            }
            (Err(e), _) | (_, Err(e)) => {
                return [Err(e.clone()), Err(e.clone()), Err(e.clone()), Err(e)];
            }
        }
    }
    samples.map(|s| Ok(Figure::of(s)))
}
