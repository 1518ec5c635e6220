#![no_std]
#![no_main]
#![forbid(unsafe_code)]
rt::entry!(main);
fn main() -> u64 {
    0
}
