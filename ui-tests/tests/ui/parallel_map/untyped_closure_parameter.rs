use freethreading::parallel_map;

fn main() {
    let _ = parallel_map!(|x| x * 2, 0..10u64);
}
