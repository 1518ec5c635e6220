//! `cargo xtask`: build, run, test, bench and check Mica.
mod report;
fn main() {}
