use freethreading::submit;

fn main() {
    let _ = submit!(());
}
