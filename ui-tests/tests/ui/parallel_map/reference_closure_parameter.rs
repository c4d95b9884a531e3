use freethreading::parallel_map;

fn main() {
    let words = vec!["a", "b"];
    let _ = parallel_map!(|word: &str| word.len(), words);
}
