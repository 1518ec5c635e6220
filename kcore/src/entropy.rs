//! Boot entropy for a CPU without RDSEED or RDRAND: the kernel feeds a
//! [`Pool`] the few values of a boot that vary from one boot to the next
//! (the TSC read at several points, the TSC at the kernel's first
//! instruction, the size of the physical memory map) and takes four
//! well-mixed words from it for `BootInfo::entropy`.
//!
//! The mixing spreads whatever uncertainty the samples hold over every bit
//! of every word; it cannot add any. The words are not secret and not
//! cryptographically strong: timing jitter under an emulator is small, and
//! the other samples are guessable. User space learns this from the
//! `abi::boot::cpu::RDRAND` bit, which the kernel sets only when the words
//! came from the CPU's generator instead.
//!
//! # Construction
//!
//! Four 64-bit lanes. Each sample is first whitened together with its
//! position (so that order matters and a run of equal samples does not
//! cancel out), then absorbed into every lane in turn, each lane's new
//! value feeding the next: one sample changes all four lanes. The
//! finisher mixes each lane with its neighbour and the sample count
//! through the splitmix64 finalizer ([`mix64`], a bijection of `u64` with
//! full avalanche). Lane keys are distinct odd constants, so the four words
//! differ even when every sample is zero.
//!
//! Pure and allocation-free; the kernel calls it once at boot.

/// The golden ratio in 64-bit fixed point (splitmix64's increment).
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// One key per lane (odd, unrelated bit patterns: digits of pi, e, sqrt 2,
/// sqrt 3), so that lanes differ from the start.
const LANE_KEYS: [u64; 4] = [
    0x243f_6a88_85a3_08d3,
    0xb7e1_5162_8aed_2a6b,
    0x6a09_e667_f3bc_c909,
    0xbb67_ae85_84ca_a73b,
];

/// The splitmix64 finalizer (Steele, Lea and Flood, "Fast splittable
/// pseudorandom number generators", 2014; the constants of Stafford's
/// Mix13): a bijection in which every input bit flips each output bit
/// with probability close to one half.
pub const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Samples absorbed so far, in four lanes (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool {
    /// The lanes.
    lanes: [u64; 4],
    /// Samples absorbed.
    count: u64,
}

impl Default for Pool {
    fn default() -> Self {
        Self::new()
    }
}

impl Pool {
    /// A pool that has absorbed nothing.
    pub const fn new() -> Pool {
        Pool {
            lanes: LANE_KEYS,
            count: 0,
        }
    }

    /// Absorbs one sample.
    pub fn add(&mut self, sample: u64) {
        self.count = self.count.wrapping_add(1);
        let mut carry = mix64(sample ^ self.count.wrapping_mul(GOLDEN));
        for (lane, key) in self.lanes.iter_mut().zip(LANE_KEYS) {
            *lane = mix64(lane.rotate_left(17) ^ carry ^ key);
            carry = *lane;
        }
    }

    /// The four words: each lane mixed with the next one (rotated) and the
    /// sample count. The pool is unchanged.
    pub fn finish(&self) -> [u64; 4] {
        core::array::from_fn(|i| {
            let next = self.lanes[(i + 1) % 4].rotate_left(32);
            mix64(self.lanes[i] ^ next ^ self.count.wrapping_mul(GOLDEN) ^ LANE_KEYS[i])
        })
    }
}

/// The four words of a pool fed `samples` in order.
pub fn mix_samples(samples: &[u64]) -> [u64; 4] {
    let mut pool = Pool::new();
    for &sample in samples {
        pool.add(sample);
    }
    pool.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words that look like entropy: not all zero, pairwise distinct.
    fn plausible(words: [u64; 4]) -> bool {
        let distinct = (0..4).all(|i| (i + 1..4).all(|j| words[i] != words[j]));
        distinct && words.iter().any(|&w| w != 0)
    }

    #[test]
    fn mix64_is_splitmix64() {
        // The first outputs of splitmix64 seeded with 0: the finalizer of
        // the state after one and two increments.
        assert_eq!(mix64(GOLDEN), 0xe220_a839_7b1d_cdaf);
        assert_eq!(mix64(GOLDEN.wrapping_mul(2)), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(mix64(0), 0);
    }

    #[test]
    fn words_are_plausible_even_from_nothing() {
        assert!(plausible(mix_samples(&[])));
        assert!(plausible(mix_samples(&[0])));
        assert!(plausible(mix_samples(&[0; 16])));
        assert!(plausible(mix_samples(&[u64::MAX; 3])));
        assert!(plausible(mix_samples(&[1, 2, 3, 536_870_912])));
    }

    #[test]
    fn deterministic_and_sensitive_to_order_and_count() {
        let samples = [0x1234_5678_9abc, 0x1234_5679_0000, 512 << 20, 3];
        assert_eq!(mix_samples(&samples), mix_samples(&samples));
        let mut swapped = samples;
        swapped.swap(0, 1);
        assert_ne!(mix_samples(&samples), mix_samples(&swapped));
        assert_ne!(mix_samples(&[0]), mix_samples(&[0, 0]));
        assert_ne!(mix_samples(&[]), mix_samples(&[0]));
        // Equal samples do not cancel out.
        assert_ne!(mix_samples(&[7, 7]), mix_samples(&[]));
    }

    #[test]
    fn finish_leaves_the_pool_alone() {
        let mut pool = Pool::new();
        pool.add(42);
        let before = pool.clone();
        assert_eq!(pool.finish(), pool.finish());
        assert_eq!(pool, before);
        assert_eq!(Pool::default(), Pool::new());
    }

    #[test]
    fn one_flipped_bit_changes_about_half_of_every_word() {
        // Typical boot samples: TSC readings a little apart, a memory size.
        let base = [
            0x0000_0123_4567_89ab,
            0x0000_0123_4580_0000,
            0x0000_0123_4a00_1234,
            512 << 20,
            4,
        ];
        let reference = mix_samples(&base);
        let mut flipped_bits = [0u64; 4];
        let mut flips = 0u64;
        for index in 0..base.len() {
            for bit in 0..64 {
                let mut samples = base;
                samples[index] ^= 1 << bit;
                let words = mix_samples(&samples);
                for (total, (a, b)) in flipped_bits.iter_mut().zip(words.iter().zip(reference)) {
                    let changed = u64::from((a ^ b).count_ones());
                    // No flip leaves a word (nearly) unchanged.
                    assert!(changed >= 8, "sample {index} bit {bit}: {changed} bits");
                    *total += changed;
                }
                flips += 1;
            }
        }
        // On average close to 32 of 64 bits of each word change.
        for total in flipped_bits {
            let average = total as f64 / flips as f64;
            assert!((30.0..34.0).contains(&average), "{average}");
        }
    }
}
