use freethreading::parallel_map;

fn main() {
    let _ = parallel_map!(async |x: u64| x * 2, 0..10);
}
