use freethreading::parallel_map;

struct Point {
    x: u64,
}

fn main() {
    let points = vec![Point { x: 1 }];
    let _ = parallel_map!(|point: Point| point.x, points);
}
