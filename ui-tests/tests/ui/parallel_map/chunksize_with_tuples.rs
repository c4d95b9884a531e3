use freethreading::parallel_map;

fn main() {
    let pairs = vec![(1, 2), (3, 4)];
    let _ = parallel_map!(|a: u64, b: u64| a + b, pairs, chunksize = 2);
}
