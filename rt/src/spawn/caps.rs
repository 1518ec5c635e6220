//! The child's capabilities: the one `CapCopyMany` that puts them in its
//! capability space (its own objects, the parent endpoint, the debug
//! capability, the grants, and the services that can be passed on), the
//! startup page's list of them, and the boot information's copy naming
//! them.

use abi::startup::{self, Handle as StartupHandle, STARTUP_HANDLES};
use abi::syscall::{CAP_COPY_ANY_TYPE, CAP_COPY_MANY_MAX, CapCopyEntry, cap_copy_mode};
use abi::{CapSlot, Rights, SysError};

use super::{Parent, Spawn, SpawnError, slot};
use crate::sys;

impl Spawn<'_> {
    /// The startup page's handles: the services `copied` says were
    /// copied, the grants, and the parent endpoint if it is a copy.
    pub(super) fn handles(
        &self,
        parent: &Parent<'_>,
        copied: u64,
    ) -> Result<[StartupHandle; STARTUP_HANDLES], SpawnError> {
        let mut handles = [StartupHandle::default(); STARTUP_HANDLES];
        let services = self
            .services
            .iter()
            .enumerate()
            .filter(|&(i, _)| copied & (1 << i) != 0);
        let grants = self.grants.iter().enumerate().map(|(i, grant)| {
            // The grants' slots follow every service's.
            (self.services.len() + i, grant)
        });
        let mut used = 0;
        for (entry, (i, grant)) in handles.iter_mut().zip(services.chain(grants)) {
            let slot = slot::FIRST_HANDLE + i as u32;
            *entry = StartupHandle::new(grant.kind, slot, grant.name)
                .ok_or(SpawnError::BadHandleName)?;
            used += 1;
        }
        if let Parent::Copy(_, name) = parent {
            let entry = handles.get_mut(used).ok_or(SpawnError::TooManyHandles)?;
            *entry = StartupHandle::new(startup::handle::CLIENT, slot::PARENT, name)
                .ok_or(SpawnError::BadHandleName)?;
        }
        Ok(handles)
    }

    /// The child's copy of the boot information: the caller's, with every
    /// capability field naming the child's slot for it (0: none).
    pub(super) fn boot_info_copy(&self) -> Option<abi::boot::BootInfo> {
        let mut info = *crate::start::boot_info()?;
        let granted = |kind: u32| {
            self.grants
                .iter()
                .position(|g| g.kind == kind)
                .map_or(0, |i| slot::FIRST_HANDLE + (self.services.len() + i) as u32)
        };
        info.debug_cap = if self.debug { slot::DEBUG } else { 0 };
        info.aspace_cap = slot::ASPACE;
        info.thread_cap = slot::THREAD;
        info.cspace_cap = slot::CSPACE;
        info.budget_cap = slot::BUDGET;
        info.initramfs_cap = granted(startup::handle::INITRAMFS);
        info.device_cap = granted(startup::handle::DEVICE);
        info.io_space_cap = granted(startup::handle::IO_SPACE);
        info.irq_control_cap = granted(startup::handle::IRQ_CONTROL);
        if info.initramfs_cap == 0 {
            info.initramfs_addr = 0;
            info.initramfs_bytes = 0;
        }
        Some(info)
    }

    /// Puts the child's capabilities in its space with one `CapCopyMany`:
    /// its own objects (address space, capability space, first thread,
    /// budget), the parent endpoint (unless minted), the debug capability
    /// if asked and the grants, every one of which must be copied; then
    /// the services, which are copied only if they can be (see
    /// [`Spawn::services`]). Returns which services were (bit `i`: the
    /// `i`th).
    pub(super) fn grant(
        &self,
        budget: CapSlot,
        parent: Parent<'_>,
        (aspace, cspace, thread): (CapSlot, CapSlot, CapSlot),
    ) -> Result<u64, SpawnError> {
        let exact = |src: CapSlot, rights: Rights, dst: u32| CapCopyEntry {
            src: src.0,
            dst,
            rights: rights.bits(),
            object_type: CAP_COPY_ANY_TYPE,
            mode: cap_copy_mode::EXACT,
        };
        // Its own objects, the parent, the debug capability, then at most
        // STARTUP_HANDLES grants and services together (`spawn` and
        // `start` checked): one call takes them all.
        const MOST: usize = STARTUP_HANDLES + 6;
        const _: () = assert!(MOST as u64 <= CAP_COPY_MANY_MAX);
        struct List {
            entries: [CapCopyEntry; MOST],
            count: usize,
        }
        impl List {
            fn push(&mut self, entry: CapCopyEntry) {
                if let Some(free) = self.entries.get_mut(self.count) {
                    *free = entry;
                    self.count += 1;
                }
            }
        }
        let mut list = List {
            entries: [CapCopyEntry::default(); MOST],
            count: 0,
        };
        list.push(exact(aspace, Rights::all(), slot::ASPACE));
        list.push(exact(cspace, Rights::all(), slot::CSPACE));
        list.push(exact(thread, Rights::all(), slot::THREAD));
        list.push(exact(budget, Rights::all(), slot::BUDGET));
        let rights = Rights::WRITE | Rights::GRANT;
        match parent {
            Parent::Mint(endpoint, badge) => {
                sys::cap_mint_to(endpoint, rights, badge, cspace, CapSlot(slot::PARENT))?;
            }
            Parent::Copy(cap, _) => list.push(exact(cap, rights, slot::PARENT)),
        }
        if self.debug
            && let Some(boot) = crate::start::boot_info()
        {
            list.push(exact(CapSlot(boot.debug_cap), Rights::all(), slot::DEBUG));
        }
        let first = slot::FIRST_HANDLE + self.services.len() as u32;
        for (i, grant) in self.grants.iter().enumerate() {
            list.push(exact(grant.slot, grant.rights, first + i as u32));
        }
        let required = list.count;
        for (i, service) in self.services.iter().enumerate() {
            list.push(CapCopyEntry {
                src: service.slot.0,
                dst: slot::FIRST_HANDLE + i as u32,
                rights: service.rights.bits(),
                object_type: abi::ObjectType::Endpoint.to_reg() as u16,
                mode: cap_copy_mode::MASK,
            });
        }
        let result = sys::cap_copy_many(cspace, &list.entries[..list.count])?;
        // The required entries come first, so the first error is theirs
        // if any failed.
        let all_required = (1u64 << required) - 1;
        if result.copied & all_required != all_required {
            let error = SysError::from_code(result.first_error).unwrap_or(SysError::InvalidArg);
            return Err(error.into());
        }
        // A service held without GRANT cannot reach another space (or one
        // that is no longer an endpoint): its copy failed, and it is not
        // passed on.
        Ok(result.copied >> required)
    }
}
