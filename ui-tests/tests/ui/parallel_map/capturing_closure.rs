use freethreading::parallel_map;

fn main() {
    let offset = 10;
    let _ = parallel_map!(|x: u64| x + offset, 0..10);
}
