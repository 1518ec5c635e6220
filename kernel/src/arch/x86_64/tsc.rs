//! The time-stamp counter: reading it, what CPUID says about its frequency
//! (and the local APIC timer's), whether user space may trust it, and
//! conversions between TSC ticks and nanoseconds.
//!
//! `timer::init` reads [`CpuidTiming`] once, takes the frequencies it
//! offers and measures the rest, then records the TSC frequency here with
//! [`set_hz`]. The sources, best first, and how accurate each is:
//!
//! | source | TSC | local APIC timer | accuracy |
//! |---|---|---|---|
//! | CPUID 0x15 with the crystal (ECX != 0) | crystal x EBX / EAX | the crystal (SDM Vol. 3A §12.5.4) | exact ratio; as good as the crystal oscillator itself (its tolerance, typically tens of ppm, is not reported) |
//! | CPUID 0x15 ratio, 0x16 base frequency | 0x16 EAX MHz | base x EAX / EBX | 0x16 is in whole MHz: ±0.5 MHz, ±250 ppm at 2 GHz |
//! | CPUID 0x40000010 (hypervisor) | EAX kHz | EBX kHz | ±0.5 kHz: ±0.5 ppm at 1 GHz, plus the host's own calibration |
//! | measured (`pit.rs`, `timer.rs`) | against the PIT | against the TSC | the bound measured at boot, logged; at most `CALIBRATION_TARGET_PPM` unless the window cap was hit |
//!
//! Under a hypervisor without leaf 0x40000010 the local APIC timer is
//! measured rather than taken from 0x15: hypervisors pass the host's leaf
//! 0x15 through while emulating the APIC timer at their own rate (KVM's
//! and QEMU's run at 1 GHz).
//!
//! The invariant TSC (CPUID 0x80000007 EDX bit 8; SDM Vol. 3B §19.17.1)
//! runs at a constant rate in every P-, C- and T-state, so user space may
//! read it directly for time; without it the TSC may stop or change rate.
//! [`invariant`] says which; the clock page will pass it on.

use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use raw_cpuid::cpuid;

const NS_PER_SECOND: u64 = 1_000_000_000;
const NS_PER_SECOND_WIDE: u128 = NS_PER_SECOND as u128;
/// CPUID leaves (SDM Vol. 2A, CPUID).
const LEAF_FEATURES: u32 = 0x1;
const LEAF_TSC_CRYSTAL: u32 = 0x15;
const LEAF_FREQUENCY: u32 = 0x16;
const LEAF_HYPERVISOR: u32 = 0x4000_0000;
const LEAF_HYPERVISOR_TIMING: u32 = 0x4000_0010;
const LEAF_EXTENDED: u32 = 0x8000_0000;
const LEAF_POWER_MANAGEMENT: u32 = 0x8000_0007;
/// CPUID.01H:ECX bit 24: the local APIC timer has TSC-deadline mode.
const ECX_TSC_DEADLINE: u32 = 1 << 24;
/// CPUID.01H:ECX bit 31: running under a hypervisor.
const ECX_HYPERVISOR: u32 = 1 << 31;
/// CPUID.80000007H:EDX bit 8: invariant TSC.
const EDX_INVARIANT_TSC: u32 = 1 << 8;

static HZ: AtomicU64 = AtomicU64::new(1);
static INVARIANT: AtomicBool = AtomicBool::new(false);

/// Reads the time-stamp counter.
#[inline(always)]
pub fn now() -> u64 {
    // SAFETY: RDTSC only reads the counter (CR4.TSD is clear, and this is
    // ring 0 anyway).
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// The timing facts CPUID reports, raw (for the boot log) and decoded.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuidTiming {
    /// Highest basic leaf (CPUID.0:EAX).
    pub max_basic_leaf: u32,
    /// Leaf 0x15 EAX (ratio denominator), EBX (numerator), ECX (crystal Hz); zero when absent.
    pub leaf_15: [u32; 3],
    /// Leaf 0x16 EAX: base frequency in MHz; zero when absent.
    pub base_mhz: u32,
    /// Highest hypervisor leaf (CPUID.40000000H:EAX), zero without a hypervisor.
    pub max_hypervisor_leaf: u32,
    /// Leaf 0x40000010 EAX (TSC kHz) and EBX (APIC bus kHz); zero when absent.
    pub leaf_40000010: [u32; 2],
    /// CPUID.01H:ECX bit 31.
    pub hypervisor: bool,
    /// CPUID.01H:ECX bit 24.
    pub tsc_deadline: bool,
    /// CPUID.80000007H:EDX bit 8.
    pub invariant_tsc: bool,
}

impl CpuidTiming {
    /// Reads the leaves, each only when the CPU reports it exists.
    pub fn read() -> CpuidTiming {
        let max_basic_leaf = cpuid!(0).eax;
        let features = cpuid!(LEAF_FEATURES);
        let hypervisor = features.ecx & ECX_HYPERVISOR != 0;
        let mut t = CpuidTiming {
            max_basic_leaf,
            hypervisor,
            tsc_deadline: features.ecx & ECX_TSC_DEADLINE != 0,
            ..CpuidTiming::default()
        };
        if max_basic_leaf >= LEAF_TSC_CRYSTAL {
            let r = cpuid!(LEAF_TSC_CRYSTAL, 0);
            t.leaf_15 = [r.eax, r.ebx, r.ecx];
        }
        if max_basic_leaf >= LEAF_FREQUENCY {
            t.base_mhz = cpuid!(LEAF_FREQUENCY).eax & 0xffff;
        }
        if hypervisor {
            t.max_hypervisor_leaf = cpuid!(LEAF_HYPERVISOR).eax;
            // Some hypervisors answer 0 for "the base leaves only".
            if t.max_hypervisor_leaf >= LEAF_HYPERVISOR_TIMING {
                let r = cpuid!(LEAF_HYPERVISOR_TIMING);
                t.leaf_40000010 = [r.eax, r.ebx];
            }
        }
        if cpuid!(LEAF_EXTENDED).eax >= LEAF_POWER_MANAGEMENT {
            t.invariant_tsc = cpuid!(LEAF_POWER_MANAGEMENT).edx & EDX_INVARIANT_TSC != 0;
        }
        t
    }

    /// The core crystal's frequency: leaf 0x15 ECX, or derived from the
    /// 0x16 base frequency and the 0x15 ratio; with its source.
    fn crystal_hz(&self) -> Option<(u64, FrequencySource)> {
        let [denominator, numerator, crystal] = self.leaf_15;
        if denominator == 0 || numerator == 0 {
            return None;
        }
        if crystal != 0 {
            return Some((u64::from(crystal), FrequencySource::CrystalRatio));
        }
        // CPUID values: a hypervisor may report anything.
        // A 32-bit MHz figure in Hz fits in 52 bits.
        let base_hz = u64::from(self.base_mhz).wrapping_mul(1_000_000);
        let derived = base_hz
            .checked_mul(u64::from(denominator))?
            .checked_div(u64::from(numerator))?;
        (derived != 0).then_some((derived, FrequencySource::BaseFrequency))
    }

    /// The TSC frequency, if CPUID gives it.
    pub fn tsc(&self) -> Option<Frequency> {
        if self.leaf_40000010[0] != 0 {
            return Some(Frequency {
                // kHz from a 32-bit register: fits in 42 bits.
                hz: u64::from(self.leaf_40000010[0]).wrapping_mul(1000),
                source: FrequencySource::Hypervisor,
            });
        }
        let [denominator, numerator, _] = self.leaf_15;
        let (crystal, source) = self.crystal_hz()?;
        let hz = crystal
            .checked_mul(u64::from(numerator))?
            .checked_div(u64::from(denominator))?;
        Some(Frequency { hz, source })
    }

    /// The local APIC timer's input frequency (divide by 1), if CPUID gives it.
    pub fn lapic(&self) -> Option<Frequency> {
        if self.leaf_40000010[1] != 0 {
            return Some(Frequency {
                hz: u64::from(self.leaf_40000010[1]) * 1000,
                source: FrequencySource::Hypervisor,
            });
        }
        if self.hypervisor {
            return None;
        }
        let (hz, source) = self.crystal_hz()?;
        Some(Frequency { hz, source })
    }
}

/// Where a frequency came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrequencySource {
    /// CPUID 0x15: the crystal's frequency and the TSC/crystal ratio.
    CrystalRatio,
    /// CPUID 0x15's ratio and 0x16's base frequency (whole MHz).
    BaseFrequency,
    /// CPUID 0x40000010 (whole kHz).
    Hypervisor,
    /// Measured at boot against another clock.
    Measured {
        /// The reference clock.
        against: Reference,
        /// Length of the measurement, in nanoseconds of the result.
        window_ns: u64,
        /// Bound on the error, in parts per million.
        error_ppm: u64,
    },
}

/// A clock that another is measured against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reference {
    /// The 8254 PIT (1,193,182 Hz).
    Pit,
    /// The TSC (itself from CPUID or the PIT).
    Tsc,
}

/// A frequency and how it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frequency {
    /// Hertz.
    pub hz: u64,
    /// Where it came from.
    pub source: FrequencySource,
}

impl Frequency {
    /// Bound on the error in parts per million, where one is known: the
    /// rounding of the CPUID field, or the measured bound. `None` for the
    /// crystal, which is as good as the oscillator (not reported).
    pub fn error_ppm(&self) -> Option<u64> {
        let hz = self.hz.max(1);
        match self.source {
            FrequencySource::CrystalRatio => None,
            // Half a MHz, half a kHz, over the frequency (rounded up).
            FrequencySource::BaseFrequency => Some(500_000_000_000u64.div_ceil(hz)),
            FrequencySource::Hypervisor => Some(500_000_000u64.div_ceil(hz)),
            FrequencySource::Measured { error_ppm, .. } => Some(error_ppm),
        }
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:03} MHz",
            self.hz / 1_000_000,
            self.hz / 1000 % 1000
        )?;
        match self.source {
            FrequencySource::CrystalRatio => {
                write!(f, " (CPUID 0x15: crystal x ratio, exact up to the crystal)")
            }
            FrequencySource::BaseFrequency => write!(
                f,
                " (CPUID 0x15 ratio, 0x16 base in whole MHz: ±{} ppm)",
                self.error_ppm().unwrap_or(0)
            ),
            FrequencySource::Hypervisor => write!(
                f,
                " (CPUID 0x40000010 in whole kHz: ±{} ppm)",
                self.error_ppm().unwrap_or(0)
            ),
            FrequencySource::Measured {
                against,
                window_ns,
                error_ppm,
            } => write!(
                f,
                " (measured against the {} over {} us: ±{} ppm)",
                match against {
                    Reference::Pit => "PIT",
                    Reference::Tsc => "TSC",
                },
                window_ns / 1000,
                error_ppm
            ),
        }
    }
}

/// Records the TSC frequency and whether it is invariant. Boot, once,
/// before anything converts.
pub fn set_hz(hz: u64, invariant_tsc: bool) {
    HZ.store(hz.max(1), Ordering::Relaxed);
    INVARIANT.store(invariant_tsc, Ordering::Relaxed);
}

/// TSC ticks per second.
pub fn hz() -> u64 {
    HZ.load(Ordering::Relaxed)
}

/// Whether the TSC runs at a constant rate in every power state (so that
/// user space may use it as a clock).
pub fn invariant() -> bool {
    INVARIANT.load(Ordering::Relaxed)
}

/// TSC ticks in `ns` nanoseconds (saturating).
pub fn ticks_from_ns(ns: u64) -> u64 {
    // Two 64-bit factors: the product fits in 128 bits.
    let ticks = u128::from(ns).wrapping_mul(u128::from(hz())) / NS_PER_SECOND_WIDE;
    u64::try_from(ticks).unwrap_or(u64::MAX)
}

/// Nanoseconds in `ticks` TSC ticks (saturating).
pub fn ns_from_ticks(ticks: u64) -> u64 {
    // `set_hz` keeps the frequency at least 1; were it 0, saturate.
    let ns = u128::from(ticks)
        .wrapping_mul(u128::from(NS_PER_SECOND))
        .checked_div(u128::from(hz()))
        .unwrap_or(u128::MAX);
    u64::try_from(ns).unwrap_or(u64::MAX)
}
