//! The TLS block layout (x86_64 variant II) and writing a block.

use elfload::{ElfError, SetupError, TCB_ALIGN, TlsLayout, TlsTemplate, tls_layout};

/// A template of `mem_bytes` bytes, `file_bytes` of them from file offset
/// 0x10, aligned to `align`.
fn template(file_bytes: u64, mem_bytes: u64, align: u64) -> TlsTemplate {
    TlsTemplate {
        file_offset: 0x10,
        file_bytes,
        mem_bytes,
        align,
    }
}

#[test]
fn no_template_still_has_a_tcb() {
    let layout = tls_layout(None, 0).unwrap();
    assert_eq!(
        layout,
        TlsLayout {
            block_bytes: 16,
            block_align: TCB_ALIGN,
            data_offset: 0,
            tp_offset: 0,
            tcb_bytes: 16,
            template: None,
        }
    );
    let mut block = [0xffu8; 16];
    let tp = layout.write_block(&[], &mut block, 0x5000).unwrap();
    assert_eq!(tp, 0x5000);
    assert_eq!(block[..8], 0x5000u64.to_le_bytes());
    assert_eq!(block[8..], [0; 8]);
}

#[test]
fn data_ends_at_the_thread_pointer() {
    // 0x48 bytes aligned to 8: the data is the 0x48 bytes below tp, and tp
    // is 16-aligned, so 8 bytes of padding come first.
    let layout = tls_layout(Some(&template(0x20, 0x48, 8)), 8).unwrap();
    assert_eq!(layout.tp_offset, 0x50);
    assert_eq!(layout.data_offset, 8);
    assert_eq!(layout.block_bytes, 0x60);
    assert_eq!(layout.block_align, 16);
    assert_eq!(layout.tcb_bytes, 0x10);
}

#[test]
fn matches_what_gnu_ld_compiles() {
    // gcc 12 / GNU ld 2.40 for
    //     __thread char a = 1;
    //     __thread long long b __attribute__((aligned(64))) = 2;
    //     __thread int c;
    // give PT_TLS filesz 9, memsz 0x10, align 0x40, and the code reads b
    // (template offset 0) at %fs:-0x40, a (offset 8) at %fs:-0x38 and c
    // (offset 0xc) at %fs:-0x34: the template starts 0x40 bytes below tp.
    let layout = tls_layout(Some(&template(9, 0x10, 0x40)), 48).unwrap();
    assert_eq!(layout.tp_offset - layout.data_offset, 0x40);
    assert_eq!(layout.block_align, 0x40);
    assert_eq!(layout.tp_offset % 0x40, 0);
    assert_eq!(layout.block_bytes, 0x80);
    // A 4-byte template aligned to 4 (the simplest __thread int) is at
    // %fs:-4.
    let layout = tls_layout(Some(&template(4, 4, 4)), 8).unwrap();
    assert_eq!(layout.tp_offset - layout.data_offset, 4);
}

#[test]
fn large_alignment_and_tcb() {
    let layout = tls_layout(Some(&template(0, 1, 4096)), 100).unwrap();
    assert_eq!(layout.block_align, 4096);
    assert_eq!(layout.tp_offset, 4096);
    assert_eq!(layout.data_offset, 0);
    assert_eq!(layout.block_bytes, 8192);
    assert_eq!(layout.tcb_bytes, 4096);
    // Align 0 is align 1.
    let layout = tls_layout(Some(&template(3, 5, 0)), 8).unwrap();
    assert_eq!(layout.tp_offset, 16);
    assert_eq!(layout.data_offset, 11);
}

#[test]
fn layout_errors() {
    assert_eq!(
        tls_layout(Some(&template(9, 8, 8)), 8),
        Err(ElfError::TlsFileSizeExceedsMemSize)
    );
    assert_eq!(
        tls_layout(Some(&template(0, 8, 24)), 8),
        Err(ElfError::TlsBadAlignment)
    );
    for (mem_bytes, align, tcb) in [
        (u64::MAX, 1, 8),
        (u64::MAX - 8, 16, 8),
        (8, 1 << 63, 8),
        (8, 8, u64::MAX),
        (1 << 48, 8, 8),
    ] {
        assert_eq!(
            tls_layout(Some(&template(0, mem_bytes, align)), tcb),
            Err(ElfError::TlsTooLarge),
            "{mem_bytes:#x} {align:#x} {tcb:#x}"
        );
    }
}

#[test]
fn write_block_copies_zeroes_and_points_to_itself() {
    let file: Vec<u8> = (0..0x100u32).map(|i| i as u8 | 0x80).collect();
    let layout = tls_layout(Some(&template(0x20, 0x48, 8)), 48).unwrap();
    let mut block = vec![0xffu8; layout.block_bytes as usize + 7];
    let addr = 0x7000_0000_1000;
    let tp = layout.write_block(&file, &mut block, addr).unwrap();
    assert_eq!(tp, addr + 0x50);
    assert_eq!(block[..8], [0; 8], "padding");
    assert_eq!(block[8..0x28], file[0x10..0x30], ".tdata");
    assert_eq!(block[0x28..0x50], [0; 0x28], ".tbss");
    assert_eq!(block[0x50..0x58], tp.to_le_bytes(), "self-pointer");
    assert!(
        block[0x58..layout.block_bytes as usize]
            .iter()
            .all(|&b| b == 0)
    );
    assert!(
        block[layout.block_bytes as usize..]
            .iter()
            .all(|&b| b == 0xff)
    );
}

#[test]
fn write_block_errors() {
    let file = vec![1u8; 0x30];
    let layout = tls_layout(Some(&template(0x20, 0x48, 8)), 8).unwrap();
    let mut block = vec![0u8; layout.block_bytes as usize];
    assert_eq!(
        layout.write_block(&file, &mut block[1..], 0x1000),
        Err(SetupError::BufferTooSmall)
    );
    assert_eq!(
        layout.write_block(&file, &mut block, 0x1008),
        Err(SetupError::BadAddress)
    );
    assert_eq!(
        layout.write_block(&file, &mut block, u64::MAX - 15),
        Err(SetupError::BadAddress)
    );
    assert_eq!(
        layout.write_block(&file[..0x2f], &mut block, 0x1000),
        Err(SetupError::TemplateMismatch)
    );
    // A layout edited to no longer hold its template.
    let mut edited = layout;
    edited.data_offset = edited.tp_offset - 8;
    assert_eq!(
        edited.write_block(&file, &mut block, 0x1000),
        Err(SetupError::TemplateMismatch)
    );
    assert!(layout.write_block(&file, &mut block, 0x1000).is_ok());
}
