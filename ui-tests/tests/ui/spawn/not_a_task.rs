use freethreading::spawn;

fn countdown(n: u32) {
    for i in (0..=n).rev() {
        println!("{i}");
    }
}

fn main() {
    let _ = spawn!(countdown(3));
}
