//! What the capability-space tests share: [`probe`], which reports what a
//! thread running in another capability space finds in its slots;
//! [`described`], the description to compare with; [`empty`] and
//! [`revoked`], what a slot of the program's own space holds.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::raw as sys;
use abi::syscall::CapInfo;
use abi::{CapSlot, ObjectType, Rights, SysError};

use crate::ensure_eq;
use crate::tests::Failure;
use crate::tests::support::{Raw, clear_out, out, raw_entry, set_out};

/// Slots the probe thread looks at.
static PROBE_SLOTS: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

/// Describes `PROBE_SLOTS[..count]` of its own capability space into
/// `OUT[3 * i..]`: 1 or 0xe000 + error, then type and rights, then badge.
fn probe_body(count: u64) -> u64 {
    for (i, probe) in PROBE_SLOTS.iter().enumerate().take(count as usize) {
        let slot = CapSlot(probe.load(Ordering::SeqCst) as u32);
        match sys::cap_info(slot) {
            Ok(info) => {
                set_out(3 * i, 1);
                set_out(
                    3 * i + 1,
                    u64::from(info.object_type) | u64::from(info.rights) << 8,
                );
                set_out(3 * i + 2, info.badge);
            }
            Err(error) => set_out(3 * i, 0xe000 + error.code()),
        }
    }
    0
}

raw_entry! {
    probe_entry => probe_body;
}

/// What a thread running in `space` finds in its `slots`: `None` for an
/// empty slot, else the capability's description.
pub(in crate::tests) fn probe<const N: usize>(
    space: CapSlot,
    slots: [u32; N],
) -> Result<[Option<CapInfo>; N], Failure> {
    for (probe, slot) in PROBE_SLOTS.iter().zip(slots) {
        probe.store(u64::from(slot), Ordering::SeqCst);
    }
    clear_out();
    let prober = Raw::new(probe_entry, N as u64).cspace(space).start()?;
    ensure_eq!(prober.join()?, 0);
    let mut found = [None; N];
    for (i, entry) in found.iter_mut().enumerate() {
        match out(3 * i) {
            1 => {
                *entry = Some(CapInfo {
                    object_type: (out(3 * i + 1) & 0xff) as u32,
                    rights: (out(3 * i + 1) >> 8) as u32,
                    badge: out(3 * i + 2),
                })
            }
            status => ensure_eq!(status, 0xe000 + SysError::InvalidCap.code()),
        }
    }
    Ok(found)
}

/// A description to compare with what [`probe`] or `cap_info` report.
pub(in crate::tests) fn described(kind: ObjectType, rights: Rights, badge: u64) -> CapInfo {
    CapInfo {
        object_type: kind.to_reg() as u32,
        rights: rights.bits(),
        badge,
    }
}

/// Whether `slot` of the program's space is empty.
pub(in crate::tests) fn empty(slot: CapSlot) -> bool {
    sys::cap_info(slot) == Err(SysError::InvalidCap)
}

/// Whether `slot` holds what a revoke leaves: it answers `InvalidCap` to
/// any use, stays taken (a copy into it is refused), and is freed by
/// `CapDelete`, once. It is freed here.
pub(super) fn revoked(slot: CapSlot) -> bool {
    let unusable = sys::cap_info(slot) == Err(SysError::InvalidCap)
        && sys::cap_copy(slot, Rights::empty()) == Err(SysError::InvalidCap);
    let own = CapSlot::NULL;
    let taken = sys::cap_copy_to(rt::process::own_caps().cspace, Rights::empty(), own, slot)
        == Err(SysError::InvalidCap);
    unusable
        && taken
        && sys::cap_delete(slot) == Ok(())
        && sys::cap_delete(slot) == Err(SysError::InvalidCap)
}
