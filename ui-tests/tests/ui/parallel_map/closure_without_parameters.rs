use freethreading::parallel_map;

fn main() {
    let _ = parallel_map!(|| 7, 0..10);
}
