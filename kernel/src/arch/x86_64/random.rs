//! The CPU's random-number instructions, for the boot entropy
//! (`BootInfo::entropy`): RDSEED (conditioned entropy straight from the
//! hardware source) and RDRAND (a generator the source reseeds). Intel SDM
//! Vol. 1 §7.3.17 and Intel's "Digital Random Number Generator Software
//! Implementation Guide" §5.2-5.3: either may fail with CF = 0 when its
//! buffer is empty; RDRAND should succeed within 10 tries unless the
//! hardware is broken, RDSEED may need many more (it fails under load by
//! design), with a `pause` between tries.
//!
//! Called once, by `kmain`, with what CPUID reported (`cpu::Features`).

use core::arch::x86_64::{_rdrand64_step, _rdseed64_step};

/// Tries of RDSEED for one word before falling back to RDRAND.
const RDSEED_TRIES: u32 = 128;
/// Tries of RDRAND for one word (the guide's recommended 10).
const RDRAND_TRIES: u32 = 10;

/// Four words from RDSEED where the CPU has it, else (or when RDSEED keeps
/// failing) from RDRAND; `None` if the CPU has neither, or a word could be
/// had from neither within the bounded tries.
pub fn hardware_words(rdseed: bool, rdrand: bool) -> Option<[u64; 4]> {
    let mut words = [0u64; 4];
    for word in &mut words {
        *word = seed_word(rdseed).or_else(|| rand_word(rdrand))?;
    }
    Some(words)
}

/// One word from RDSEED, if the CPU has it and it delivers in time.
fn seed_word(rdseed: bool) -> Option<u64> {
    if !rdseed {
        return None;
    }
    for _ in 0..RDSEED_TRIES {
        let mut value = 0u64;
        // SAFETY: CPUID.(EAX=07H,ECX=0):EBX bit 18 says the CPU has RDSEED
        // (`rdseed` is that bit); the instruction only writes `value` and
        // the flags.
        if unsafe { _rdseed64_step(&mut value) } == 1 {
            return Some(value);
        }
        core::hint::spin_loop();
    }
    None
}

/// One word from RDRAND, if the CPU has it and it delivers in time.
fn rand_word(rdrand: bool) -> Option<u64> {
    if !rdrand {
        return None;
    }
    for _ in 0..RDRAND_TRIES {
        let mut value = 0u64;
        // SAFETY: CPUID.01H:ECX bit 30 says the CPU has RDRAND (`rdrand`
        // is that bit); the instruction only writes `value` and the flags.
        if unsafe { _rdrand64_step(&mut value) } == 1 {
            return Some(value);
        }
        core::hint::spin_loop();
    }
    None
}
