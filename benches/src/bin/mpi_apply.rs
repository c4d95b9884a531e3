//! `benches/mpi.sh`'s freethreading side: `apply` round trips to one worker
//! rank (`mpirun -n 2`), and a `map` of 100 000 tiny tasks over every
//! worker rank (`mpirun -n 3`: two workers), with Python's default chunks.
//! Prints microseconds per `apply` (the mean, then the median round trip)
//! and milliseconds per `map`.

use std::time::Instant;

use freethreading::{WorkerPool, worker_fn};

#[worker_fn]
fn tiny(x: u64) -> u64 {
    x.wrapping_mul(3) ^ 1
}

const ROUND_TRIPS: u32 = 20_000;
const MAP_ITEMS: u64 = 100_000;
const MAPS: u32 = 5;

#[freethreading::main]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let what = std::env::args().nth(1).unwrap_or_default();
    let pool = WorkerPool::builder().build()?;
    match what.as_str() {
        "apply" => {
            for i in 0..1_000 {
                pool.apply(tiny, (i,))?;
            }
            let mut each = Vec::with_capacity(ROUND_TRIPS as usize);
            let start = Instant::now();
            for i in 0..u64::from(ROUND_TRIPS) {
                let one = Instant::now();
                pool.apply(tiny, (i,))?;
                each.push(one.elapsed());
            }
            let micros = start.elapsed().as_secs_f64() * 1e6 / f64::from(ROUND_TRIPS);
            each.sort_unstable();
            let median = each[each.len() / 2].as_secs_f64() * 1e6;
            println!("apply_us {micros:.2} median_us {median:.2}");
        }
        "map" => {
            pool.map(tiny, 0..MAP_ITEMS)?;
            let start = Instant::now();
            for _ in 0..MAPS {
                let out = pool.map(tiny, 0..MAP_ITEMS)?;
                assert_eq!(out.len(), 100_000);
            }
            let millis = start.elapsed().as_secs_f64() * 1e3 / f64::from(MAPS);
            println!("map_ms {millis:.2}");
        }
        _ => return Err("usage: mpi_apply apply|map (under mpirun)".into()),
    }
    Ok(())
}
