//! The GDT and TSS of the boot CPU (SDM Vol. 3A §3.4.5, §8.7).
//!
//! Selector order is fixed by SYSCALL/SYSRET: STAR holds the kernel code
//! selector (data follows it) and a base from which SYSRET derives user data
//! (+8) and 64-bit user code (+16).

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

static mut TSS: TaskStateSegment = TaskStateSegment::new();

static GDT: spin::Once<GlobalDescriptorTable> = spin::Once::new();

/// Loads the GDT and TSS and programs STAR. Boot CPU, once.
pub fn init() {
    let ist_base = addr_of!(IST_STACKS) as u64;
    // SAFETY: called once on the boot CPU before interrupts are enabled and
    // before anything reads the TSS, so this is the only access.
    let tss: &'static TaskStateSegment = unsafe {
        let tss = &mut *core::ptr::addr_of_mut!(TSS);
        for i in 0..3 {
            let top = ist_base + ((i + 1) * IST_STACK_BYTES) as u64;
            tss.interrupt_stack_table[i] = VirtAddr::new(top);
        }
        // No I/O permission bitmap: in/out from ring 3 always fault.
        tss.iomap_base = core::mem::size_of::<TaskStateSegment>() as u16;
        &*tss
    };
    let gdt = GDT.call_once(|| {
        let mut gdt = GlobalDescriptorTable::new();
        gdt.append(Descriptor::kernel_code_segment());
        gdt.append(Descriptor::kernel_data_segment());
        // 0x18: 32-bit user code, unused, kept so SYSRET's layout works.
        gdt.append(Descriptor::UserSegment(0x00cf_fa00_0000_ffff));
        gdt.append(Descriptor::user_data_segment());
        gdt.append(Descriptor::user_code_segment());
        gdt.append(Descriptor::tss_segment(tss));
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
        (*tss).privilege_stack_table[0] = VirtAddr::new_unsafe(top);
    }
}
