//! The boot information page: what the kernel reports about the boot
//! that user space cannot learn otherwise (here, the boot entropy).

use abi::boot::cpu;

use super::{TestResult, boot};
use crate::{ensure, ensure_eq};

/// CPUID.01H:ECX bit 30: RDRAND.
const CPUID_1_ECX_RDRAND: u32 = 1 << 30;
/// CPUID.(EAX=07H,ECX=0):EBX bit 18: RDSEED.
const CPUID_7_EBX_RDSEED: u32 = 1 << 18;

/// Whether the CPU says it has RDRAND or RDSEED.
fn cpu_has_random_instructions() -> bool {
    let (max_leaf, ..) = crate::cpu::cpuid(0, 0);
    let (_, _, ecx, _) = crate::cpu::cpuid(1, 0);
    let rdseed = max_leaf >= 7 && crate::cpu::cpuid(7, 0).1 & CPUID_7_EBX_RDSEED != 0;
    ecx & CPUID_1_ECX_RDRAND != 0 || rdseed
}

pub fn entropy() -> TestResult {
    let info = boot();
    let words = info.entropy;
    // One boot cannot be compared with another: the words must at least
    // not be all zero, nor all the same.
    ensure!(words.iter().any(|&word| word != 0));
    ensure!(words.iter().any(|&word| word != words[0]));
    // The words are the hardware's exactly when the CPU has a generator
    // (a generator that fails every bounded retry would be broken).
    let hardware = info.cpu_features & cpu::RDRAND != 0;
    ensure_eq!(hardware, cpu_has_random_instructions());
    rt::println!(
        "    entropy from {}",
        if hardware {
            "RDSEED/RDRAND"
        } else {
            "boot timings (no RDSEED or RDRAND)"
        }
    );
    Ok(())
}
