use freethreading::parallel_map;

fn square(x: u64) -> u64 {
    x * x
}

fn main() {
    let _ = parallel_map!(square, 0..10);
}
