use freethreading::worker_fn;

#[worker_fn]
unsafe fn read(address: usize) -> u8 {
    unsafe { *(address as *const u8) }
}

fn main() {}
