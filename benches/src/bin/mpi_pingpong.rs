//! The bare comparison of `benches/mpi.sh`: a `MPI_Send`/`MPI_Recv`
//! ping-pong between ranks 0 and 1 (`mpirun -n 2`), with messages the size
//! of an `apply` round trip's (a 32-byte order, a 16-byte reply). Prints
//! microseconds per round trip: the mean, then the median.

use std::time::Instant;

use mpi::traits::{Communicator, Destination, Source};

const ROUND_TRIPS: u32 = 20_000;

fn main() {
    let Some(universe) = mpi::initialize() else {
        eprintln!("MPI was initialized already");
        std::process::exit(1);
    };
    let world = universe.world();
    let order = [7_u8; 32];
    let reply = [9_u8; 16];
    match world.rank() {
        0 => {
            let peer = world.process_at_rank(1);
            let mut each = Vec::with_capacity(ROUND_TRIPS as usize);
            let start = Instant::now();
            for _ in 0..ROUND_TRIPS {
                let one = Instant::now();
                peer.send(&order[..]);
                let (_answer, _) = peer.receive_vec::<u8>();
                each.push(one.elapsed());
            }
            let micros = start.elapsed().as_secs_f64() * 1e6 / f64::from(ROUND_TRIPS);
            each.sort_unstable();
            let median = each[each.len() / 2].as_secs_f64() * 1e6;
            println!("pingpong_us {micros:.2} median_us {median:.2}");
        }
        1 => {
            let peer = world.process_at_rank(0);
            for _ in 0..ROUND_TRIPS {
                let (_job, _) = peer.receive_vec::<u8>();
                peer.send(&reply[..]);
            }
        }
        _ => {}
    }
}
