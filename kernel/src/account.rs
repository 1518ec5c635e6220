//! Paying for frames: every frame the kernel takes for a program is
//! charged to a budget first and refunded to it when freed.
//!
//! Objects remember the budget that paid for them (and for their page
//! tables, slot pages and tree nodes); user pages remember theirs in the
//! frame allocator's page bookkeeping, because a page can outlive the
//! object that paid for it (a copy-on-write clone or a lent buffer still
//! holds it).

use abi::SysError;
use kcore::frame::FrameNumber;

use crate::cap::ObjectRef;
use crate::kernel::Kernel;
use crate::mem::frame;
use crate::mem::kobj::{KernelObject, ObjId};
use crate::object::budget::Budget;

impl Kernel {
    /// Charges `frames` to `budget`.
    ///
    /// # Errors
    /// [`SysError::OutOfMemory`] if the budget cannot pay (nothing charged).
    pub fn charge(&mut self, budget: ObjId<Budget>, frames: u64) -> Result<(), SysError> {
        self.objects
            .get_mut(budget)
            .account
            .charge(frames)
            .map_err(|_| SysError::OutOfMemory)
    }

    /// Frames `budget` can still pay for.
    pub fn available(&self, budget: ObjId<Budget>) -> u64 {
        self.objects.get(budget).account.available()
    }

    /// Returns `frames` to `budget`; a budget left with nothing charged
    /// and no capability goes.
    ///
    /// # Panics
    /// If more is refunded than was charged (a kernel bug).
    pub fn refund(&mut self, budget: ObjId<Budget>, frames: u64) {
        let payer = self.objects.get_mut(budget);
        payer
            .account
            .refund(frames)
            .expect("refunding frames that were charged");
        if frames > 0 && payer.is_unused() {
            self.schedule_destroy(ObjectRef::Budget(budget));
        }
    }

    /// Puts `value` in a new frame paid for by `budget`.
    ///
    /// # Errors
    /// [`SysError::OutOfMemory`] (nothing kept).
    pub fn new_object<T: KernelObject>(
        &mut self,
        budget: ObjId<Budget>,
        value: T,
    ) -> Result<ObjId<T>, SysError> {
        self.charge(budget, 1)?;
        self.objects.alloc(value).map_err(|_| {
            self.refund(budget, 1);
            SysError::OutOfMemory
        })
    }

    /// Frees an object's frame and refunds `budget`, which paid for it.
    pub fn free_object<T: KernelObject>(&mut self, budget: ObjId<Budget>, id: ObjId<T>) {
        self.objects.free(id);
        self.refund(budget, 1);
    }

    /// A zeroed user page paid for by `budget`, held once.
    ///
    /// # Errors
    /// [`SysError::OutOfMemory`] (nothing kept).
    pub fn new_page(&mut self, budget: ObjId<Budget>) -> Result<FrameNumber, SysError> {
        self.charge(budget, 1)?;
        let Some(page) = frame::alloc_zeroed() else {
            self.refund(budget, 1);
            return Err(SysError::OutOfMemory);
        };
        frame::page_init(page, budget.frame_number());
        Ok(page)
    }

    /// A memory object lets go of a user page; the last one frees it and
    /// refunds whoever paid.
    pub fn release_page(&mut self, page: FrameNumber) {
        if let Some(payer) = frame::page_release(page) {
            // SAFETY: the number was stored by `new_page` from a live
            // budget, and a budget lives while anything is charged to it
            // (this page was, until now).
            let budget = unsafe { ObjId::<Budget>::from_frame_number(payer) };
            if let Some(budget) = budget {
                self.refund(budget, 1);
            }
        }
    }
}
