//! Placeholder until the benchmark lands; measures nothing and says so.
fn main() {
    eprintln!("this benchmark is not written yet");
}
