//! Typed user pointers. The kernel reads and writes user memory only
//! through [`UserSlice`] and [`UserPtr`], which check the range before any
//! access and copy with the one fault-tolerant routine in
//! `arch::usercopy`: a fault becomes [`SysError::BadAddress`], never a panic.
//!
//! The access mode is part of the type: a `UserSlice<Read>` can only be
//! read, a `UserSlice<Write>` only written.
//!
//! Before copying, the pages of the range are faulted in through the
//! thread's regions (`vm::fault::populate`: a lazy page is filled, a
//! copy-on-write page copied), so the copy itself never needs the page
//! fault handler to do more than report `BadAddress`.

use core::marker::PhantomData;

use abi::SysError;
use abi::layout::{USER_START, is_user_range};
use zerocopy::{FromBytes, Immutable, IntoBytes};

use crate::kernel::Kernel;
use crate::mem::kobj::ObjId;
use crate::object::thread::Thread;
use crate::vm::{self, Access};

/// The kernel only reads.
pub struct Read;
/// The kernel only writes.
pub struct Write;

/// Modes that allow reading.
pub trait Readable {}
impl Readable for Read {}
/// Modes that allow writing.
pub trait Writable {}
impl Writable for Write {}

/// A range of user memory the kernel has not yet touched: an allegation
/// by the caller, checked to lie inside user space.
pub struct UserSlice<Mode> {
    addr: u64,
    len: usize,
    _mode: PhantomData<Mode>,
}

impl<Mode> UserSlice<Mode> {
    /// Checks `[addr, addr + len)`: it must not wrap, must lie below the
    /// user-space end (so not in the kernel half and canonical), and must
    /// not start on the never-mapped null page unless empty.
    ///
    /// # Errors
    /// [`SysError::BadAddress`] otherwise.
    pub fn new(addr: u64, len: u64) -> Result<Self, SysError> {
        if !is_user_range(addr, len) || (len > 0 && addr < USER_START) {
            return Err(SysError::BadAddress);
        }
        let len = usize::try_from(len).map_err(|_| SysError::BadAddress)?;
        Ok(UserSlice {
            addr,
            len,
            _mode: PhantomData,
        })
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The `len` bytes from byte `from` of the range.
    ///
    /// # Errors
    /// [`SysError::InvalidArg`] if they are not all inside it.
    pub fn part(&self, from: usize, len: usize) -> Result<Self, SysError> {
        let end = from.checked_add(len).ok_or(SysError::InvalidArg)?;
        if end > self.len {
            return Err(SysError::InvalidArg);
        }
        Ok(UserSlice {
            // Inside a checked user range: no wrap.
            addr: self.addr.wrapping_add(from as u64),
            len,
            _mode: PhantomData,
        })
    }

    /// Faults in the range in `thread`'s address space.
    fn populate(
        &self,
        k: &mut Kernel,
        thread: ObjId<Thread>,
        access: Access,
    ) -> Result<(), SysError> {
        let aspace = k.objects.get(thread).aspace;
        vm::fault::populate(k, aspace, self.addr, self.len as u64, access)
    }
}

impl<Mode: Readable> UserSlice<Mode> {
    /// Copies the whole range into `dst`, which must be exactly as long.
    ///
    /// # Errors
    /// [`SysError::BadAddress`] if any byte is unmapped or not readable;
    /// [`SysError::InvalidArg`] if the lengths differ.
    pub fn copy_to(
        &self,
        k: &mut Kernel,
        thread: ObjId<Thread>,
        dst: &mut [u8],
    ) -> Result<(), SysError> {
        if dst.len() != self.len {
            return Err(SysError::InvalidArg);
        }
        self.populate(k, thread, Access::Read)?;
        // SAFETY: the user range was checked by `new` (obligation 1); `dst`
        // is a live exclusive kernel buffer of `len` bytes (obligation 2).
        let ok = unsafe {
            crate::arch::usercopy::copy(dst.as_mut_ptr(), self.addr as *const u8, self.len)
        };
        if ok {
            Ok(())
        } else {
            Err(SysError::BadAddress)
        }
    }
}

impl UserSlice<Read> {
    /// Faults in the whole range for reading, so that copies of its parts
    /// after it cannot fail part-way through a call's work.
    ///
    /// # Errors
    /// [`SysError::BadAddress`] if a byte is unmapped or not readable;
    /// [`SysError::OutOfMemory`] if a page cannot be paid for.
    pub fn prepare(&self, k: &mut Kernel, thread: ObjId<Thread>) -> Result<(), SysError> {
        self.populate(k, thread, Access::Read)
    }
}

impl<Mode: Writable> UserSlice<Mode> {
    /// Copies `src`, which must be exactly as long, into the range.
    ///
    /// # Errors
    /// [`SysError::BadAddress`] if any byte is unmapped or read-only;
    /// [`SysError::InvalidArg`] if the lengths differ.
    pub fn copy_from(
        &self,
        k: &mut Kernel,
        thread: ObjId<Thread>,
        src: &[u8],
    ) -> Result<(), SysError> {
        if src.len() != self.len {
            return Err(SysError::InvalidArg);
        }
        self.populate(k, thread, Access::Write)?;
        // SAFETY: the user range was checked by `new` (obligation 1); `src`
        // is a live kernel buffer of `len` bytes, only read (obligation 2).
        let ok =
            unsafe { crate::arch::usercopy::copy(self.addr as *mut u8, src.as_ptr(), self.len) };
        if ok {
            Ok(())
        } else {
            Err(SysError::BadAddress)
        }
    }
}

/// One value of type `T` in user memory.
pub struct UserPtr<T, Mode> {
    slice: UserSlice<Mode>,
    _type: PhantomData<T>,
}

impl<T, Mode> UserPtr<T, Mode> {
    /// Checks the address as [`UserSlice::new`] does for `size_of::<T>()` bytes.
    ///
    /// # Errors
    /// [`SysError::BadAddress`].
    pub fn new(addr: u64) -> Result<Self, SysError> {
        let slice = UserSlice::new(addr, core::mem::size_of::<T>() as u64)?;
        Ok(UserPtr {
            slice,
            _type: PhantomData,
        })
    }
}

impl<T: IntoBytes + Immutable, Mode: Writable> UserPtr<T, Mode> {
    /// Writes the value.
    ///
    /// # Errors
    /// [`SysError::BadAddress`].
    pub fn write(&self, k: &mut Kernel, thread: ObjId<Thread>, value: &T) -> Result<(), SysError> {
        self.slice.copy_from(k, thread, value.as_bytes())
    }
}

impl<T: FromBytes + IntoBytes, Mode: Readable> UserPtr<T, Mode> {
    /// Reads the value (a copy: later user writes cannot change it).
    ///
    /// # Errors
    /// [`SysError::BadAddress`].
    pub fn read(&self, k: &mut Kernel, thread: ObjId<Thread>) -> Result<T, SysError> {
        let mut value = T::new_zeroed();
        self.slice.copy_to(k, thread, value.as_mut_bytes())?;
        Ok(value)
    }
}
