//! The GDT and TSS of the boot CPU (SDM Vol. 3A §3.4.5, §8.7), and the
//! TSS's I/O permission bitmap (SDM Vol. 1 §19.5.2).
//!
//! Selector order is fixed by SYSCALL/SYSRET: STAR holds the kernel code
//! selector (data follows it) and a base from which SYSRET derives user data
//! (+8) and 64-bit user code (+16).
//!
//! The I/O bitmap follows the TSS: one bit per port, 0 = the port is
//! allowed in ring 3, then a terminating 0xff byte. It starts all ones, and
//! the TSS's `iomap_base` points past the segment limit ([`io_disable`]),
//! so every `in`/`out` from ring 3 faults (#GP) until the kernel opens
//! ports for the thread that runs ([`io_allow`], [`io_enable`]).

use core::ptr::addr_of;
use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::registers::model_specific::Star;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;

use crate::config::IST_STACK_BYTES;

/// 64-bit kernel code.
pub const KERNEL_CODE_SELECTOR: u16 = 0x08;
/// Kernel data.
pub const KERNEL_DATA_SELECTOR: u16 = 0x10;
/// User data (RPL 3).
pub const USER_DATA_SELECTOR: u16 = 0x20 | 3;
/// 64-bit user code (RPL 3).
pub const USER_CODE_SELECTOR: u16 = 0x28 | 3;

/// IST slots (1-based in the IDT, 0-based in the TSS).
pub const IST_DOUBLE_FAULT: u8 = 1;
/// NMI stack.
pub const IST_NMI: u8 = 2;
/// Machine-check stack.
pub const IST_MACHINE_CHECK: u8 = 3;

#[repr(C, align(16))]
struct IstStack([u8; IST_STACK_BYTES]);

static mut IST_STACKS: [IstStack; 3] = [const { IstStack([0; IST_STACK_BYTES]) }; 3];

/// Bytes of the I/O permission bitmap: one bit for each of the 65,536 ports.
const IOMAP_BYTES: usize = 8192;
/// The ports the bitmap covers, one bit each.
const IOMAP_PORTS: u32 = IOMAP_BYTES as u32 * 8;

/// The TSS with its I/O permission bitmap right after it.
#[repr(C)]
struct TssWithIoMap {
    tss: TaskStateSegment,
    /// The bitmap and its terminating 0xff byte.
    iomap: [u8; IOMAP_BYTES + 1],
}

static mut TSS: TssWithIoMap = TssWithIoMap {
    tss: TaskStateSegment::new(),
    iomap: [0xff; IOMAP_BYTES + 1],
};

/// `iomap_base` when the bitmap is in use: right after the TSS.
const IOMAP_BASE: u16 = core::mem::offset_of!(TssWithIoMap, iomap) as u16;
/// `iomap_base` past the segment limit: no bitmap, every port faults.
const IOMAP_DISABLED: u16 = u16::MAX;

static GDT: spin::Once<GlobalDescriptorTable> = spin::Once::new();

/// Loads the GDT and TSS and programs STAR. Boot CPU, once.
pub fn init() {
    let ist_base = addr_of!(IST_STACKS) as u64;
    // SAFETY: called once on the boot CPU before interrupts are enabled and
    // before anything reads the TSS, so this is the only access.
    let (tss, iomap): (&'static TaskStateSegment, &'static [u8]) = unsafe {
        let both = &mut *core::ptr::addr_of_mut!(TSS);
        // The stacks are a static array in the kernel image, so their
        // ends do not wrap.
        let mut top = ist_base;
        for i in 0..3 {
            top = top.wrapping_add(IST_STACK_BYTES as u64);
            both.tss.interrupt_stack_table[i] = VirtAddr::new(top);
        }
        // The descriptor's limit covers the bitmap; `io_disable` below
        // then points `iomap_base` past it until a thread needs ports.
        both.tss.iomap_base = IOMAP_BASE;
        (&both.tss, &both.iomap)
    };
    let gdt = GDT.call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        gdt.append(Descriptor::kernel_code_segment());
        gdt.append(Descriptor::kernel_data_segment());
        // 0x18: 32-bit user code, unused, kept so SYSRET's layout works.
        gdt.append(Descriptor::UserSegment(0x00cf_fa00_0000_ffff));
        gdt.append(Descriptor::user_data_segment());
        gdt.append(Descriptor::user_code_segment());
        gdt.append(
            Descriptor::tss_segment_with_iomap(tss, iomap)
                .expect("the I/O bitmap follows the TSS and ends with 0xff"),
        );
        gdt
    });
    gdt.load();
    let kcode = SegmentSelector(KERNEL_CODE_SELECTOR);
    let kdata = SegmentSelector(KERNEL_DATA_SELECTOR);
    // SAFETY: the selectors index the descriptors appended above, which are
    // valid code/data/TSS descriptors in the GDT just loaded.
    unsafe {
        CS::set_reg(kcode);
        SS::set_reg(kdata);
        DS::set_reg(kdata);
        ES::set_reg(kdata);
        load_tss(SegmentSelector(0x30));
    }
    io_disable();
    Star::write(
        SegmentSelector(USER_CODE_SELECTOR),
        SegmentSelector(USER_DATA_SELECTOR),
        kcode,
        kdata,
    )
    .expect("GDT layout matches SYSCALL/SYSRET");
}

/// Sets where the CPU saves the user frame on the next interrupt or
/// exception from ring 3 (TSS `rsp0`).
#[inline(always)]
pub fn set_user_entry_stack(top: u64) {
    // SAFETY: the boot CPU is the only CPU running kernel code and runs with
    // interrupts off, so nothing else accesses the TSS now; the CPU reads
    // `rsp0` only on a ring 3 -> 0 transition, which cannot happen during
    // this store. `top` is the end of a context inside a kernel object, a
    // canonical kernel address.
    unsafe {
        let tss = core::ptr::addr_of_mut!(TSS);
        (*tss).tss.privilege_stack_table[0] = VirtAddr::new_unsafe(top);
    }
}

/// Lets ring 3 use the `count` ports from `first` (once the bitmap is
/// enabled).
pub fn io_allow(first: u16, count: u32) {
    set_io_bits(first, count, false);
}

/// Takes the `count` ports from `first` away from ring 3 again.
pub fn io_deny(first: u16, count: u32) {
    set_io_bits(first, count, true);
}

fn set_io_bits(first: u16, count: u32, deny: bool) {
    // An I/O port range object: `first + count <= 2^16` (checked when it
    // was made), so the sum cannot wrap; the bitmap's end clamps it.
    let end = u32::from(first).wrapping_add(count).min(IOMAP_PORTS);
    for port in u32::from(first)..end {
        let (byte, bit) = ((port / 8) as usize, port % 8);
        // SAFETY: one CPU, kernel lock held, interrupts off: nothing else
        // touches the bitmap; the CPU reads it only on `in`/`out` in ring
        // 3, which cannot run during this store. `byte` < IOMAP_BYTES.
        unsafe {
            let iomap = &mut (*core::ptr::addr_of_mut!(TSS)).iomap;
            if deny {
                iomap[byte] |= 1 << bit;
            } else {
                iomap[byte] &= !(1 << bit);
            }
        }
    }
}

/// Makes the CPU consult the bitmap for ring-3 `in`/`out`.
pub fn io_enable() {
    set_iomap_base(IOMAP_BASE);
}

/// Makes every ring-3 `in`/`out` fault, whatever the bitmap says (one
/// store: what a switch to a thread without ports costs).
pub fn io_disable() {
    set_iomap_base(IOMAP_DISABLED);
}

fn set_iomap_base(base: u16) {
    // SAFETY: as in `set_io_bits`; the CPU reads `iomap_base` only on a
    // ring-3 `in`/`out`.
    unsafe {
        (*core::ptr::addr_of_mut!(TSS)).tss.iomap_base = base;
    }
}
