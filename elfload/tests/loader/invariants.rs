//! What every [`Image`] returned by `parse` promises, checked from the
//! outside: the property tests call [`check_image`] on every success, and
//! the fuzz target includes this file by path and does the same.
//!
//! The checks restate the rules of the crate documentation, not the code:
//! the segments lie in user space, sorted and a page apart; the direct pages
//! and copies of a segment cover exactly its file bytes from the right file
//! offsets; and, for small images, loading the plan into a model memory
//! gives the bytes a naive reading of the program headers gives.

use std::collections::BTreeMap;

use abi::layout::{PAGE_BYTES, USER_END, USER_START};
use elfload::{
    Image, Kind, MAX_SEGMENTS, Options, PHDR_BYTES, TCB_MAX_BYTES, TCB_MIN_BYTES, tls_layout,
};

/// Largest image (in pages) that [`check_model`] loads into a model memory.
const MODEL_MAX_PAGES: u64 = 64;

/// Panics, naming the broken promise, unless `image` (from
/// `parse(file, opts)`) keeps every promise of the plan.
pub fn check_image(image: &Image, file: &[u8], opts: &Options) {
    let file_len = file.len() as u64;
    let segments = image.segments();
    assert!(
        !segments.is_empty() && segments.len() <= MAX_SEGMENTS,
        "segment count"
    );
    match image.kind() {
        Kind::Exec => assert_eq!(image.bias(), 0, "an ET_EXEC is never moved"),
        Kind::StaticPie => assert_eq!(image.bias(), opts.base, "a static-pie loads at the base"),
    }
    assert_eq!(image.bias() % PAGE_BYTES, 0, "bias page-aligned");
    assert!(image.load_align().is_power_of_two() && image.load_align() >= PAGE_BYTES);
    assert_eq!(image.phentsize(), PHDR_BYTES);
    assert!(image.phnum() >= 1);

    let mut previous_end = USER_START;
    for segment in segments {
        let mem_end = segment
            .vaddr
            .checked_add(segment.mem_bytes)
            .expect("mem end");
        assert!(segment.mem_bytes > 0, "empty segment kept");
        assert!(segment.file_bytes <= segment.mem_bytes, "filesz <= memsz");
        assert_eq!(segment.start % PAGE_BYTES, 0, "start page-aligned");
        assert_eq!(
            segment.start,
            segment.vaddr / PAGE_BYTES * PAGE_BYTES,
            "start"
        );
        assert_eq!(
            segment.end(),
            mem_end.div_ceil(PAGE_BYTES) * PAGE_BYTES,
            "end"
        );
        assert!(segment.pages > 0, "pages");
        assert!(segment.start >= previous_end, "sorted and a page apart");
        assert!(segment.end() <= USER_END, "below USER_END");
        previous_end = segment.end();
        assert!(!(segment.access.write && segment.access.exec), "W^X");
        let file_end = segment
            .file_offset
            .checked_add(segment.file_bytes)
            .expect("file end");
        assert!(file_end <= file_len, "file bytes inside the file");

        // The pieces (direct pages and copies) tile the file bytes exactly;
        // direct pages may reach past them, by less than a page at each
        // end, onto file bytes around the segment (never past the file's
        // end, never over the segment's zero bytes).
        let data_end = segment.vaddr + segment.file_bytes;
        let mut pieces: Vec<(u64, u64, u64)> = Vec::new();
        if let Some(direct) = segment.direct {
            assert!(!segment.access.write, "direct pages in a writable segment");
            assert_eq!(
                opts.file_page_offset, 0,
                "direct pages from an unaligned file"
            );
            assert_eq!(direct.vaddr % PAGE_BYTES, 0, "direct vaddr page-aligned");
            assert_eq!(
                direct.file_offset % PAGE_BYTES,
                0,
                "direct offset page-aligned"
            );
            assert!(direct.pages > 0, "empty direct map");
            let direct_end = direct.vaddr + direct.pages * PAGE_BYTES;
            assert!(
                direct.vaddr + PAGE_BYTES > segment.vaddr && direct_end < data_end + PAGE_BYTES,
                "direct pages reach less than a page past the file bytes"
            );
            assert_eq!(
                i128::from(direct.file_offset),
                i128::from(segment.file_offset) + i128::from(direct.vaddr)
                    - i128::from(segment.vaddr),
                "direct offset"
            );
            assert!(
                direct.file_offset + direct.pages * PAGE_BYTES <= file_len,
                "direct pages inside the file"
            );
            assert!(
                direct_end <= data_end || mem_end <= data_end,
                "direct pages over zero bytes"
            );
            let from = direct.vaddr.max(segment.vaddr);
            let to = direct_end.min(data_end);
            pieces.push((
                from,
                segment.file_offset + (from - segment.vaddr),
                to - from,
            ));
        }
        for copy in segment.file_copies() {
            assert!(copy.len > 0, "empty copy");
            if let Some(direct) = segment.direct {
                // A copy stays off the direct pages: it is the part of the
                // head page before them or of the tail page after them.
                let direct_end = direct.vaddr + direct.pages * PAGE_BYTES;
                let copy_end = copy.vaddr + copy.len;
                let before = copy_end <= direct.vaddr && copy.vaddr > direct.vaddr - PAGE_BYTES;
                let after = copy.vaddr >= direct_end && copy_end < direct_end + PAGE_BYTES;
                assert!(before || after, "copy {copy:?} next to direct {direct:?}");
            }
            pieces.push((copy.vaddr, copy.file_offset, copy.len));
        }
        pieces.sort();
        let mut cursor = segment.vaddr;
        for (vaddr, file_offset, len) in pieces {
            assert_eq!(
                vaddr, cursor,
                "pieces tile the file bytes without gap or overlap"
            );
            assert_eq!(
                file_offset,
                segment.file_offset + (vaddr - segment.vaddr),
                "offset"
            );
            assert!(file_offset + len <= file_len, "piece inside the file");
            cursor = vaddr + len;
        }
        assert_eq!(
            cursor,
            segment.vaddr + segment.file_bytes,
            "pieces cover the file bytes"
        );

        // Direct pages are used whenever the rules allow them: every page
        // of file bytes that is whole, or that lies wholly inside the file
        // and holds none of the segment's zero bytes.
        let direct_allowed = !segment.access.write
            && opts.file_page_offset == 0
            && segment.file_offset % PAGE_BYTES == segment.vaddr % PAGE_BYTES;
        let may_show = |page: u64| {
            let whole = page >= segment.vaddr && page + PAGE_BYTES <= data_end;
            let offset =
                i128::from(segment.file_offset) + i128::from(page) - i128::from(segment.vaddr);
            let in_file = offset >= 0 && offset + i128::from(PAGE_BYTES) <= i128::from(file_len);
            let zeroes = data_end < mem_end && data_end < page + PAGE_BYTES;
            whole || (in_file && !zeroes)
        };
        let expected: Vec<u64> = (segment.start..data_end)
            .step_by(PAGE_BYTES as usize)
            .filter(|&page| direct_allowed && may_show(page))
            .collect();
        let planned: Vec<u64> = segment
            .direct
            .map(|d| (0..d.pages).map(|i| d.vaddr + i * PAGE_BYTES).collect())
            .unwrap_or_default();
        assert_eq!(
            planned, expected,
            "direct pages exactly where allowed and possible"
        );

        // Fresh ranges and direct pages tile the segment's pages.
        let mut runs: Vec<(u64, u64)> = segment
            .fresh_ranges()
            .iter()
            .flatten()
            .map(|run| (run.start, run.end()))
            .collect();
        if let Some(direct) = segment.direct {
            runs.push((direct.vaddr, direct.vaddr + direct.pages * PAGE_BYTES));
        }
        runs.sort();
        let mut cursor = segment.start;
        for (start, end) in runs {
            assert_eq!(start, cursor, "fresh and direct pages tile the segment");
            assert!(end > start, "empty run");
            cursor = end;
        }
        assert_eq!(
            cursor,
            segment.end(),
            "fresh and direct pages cover the segment"
        );
    }

    let entry = image.entry();
    assert!(
        segments
            .iter()
            .any(|s| s.access.exec && s.vaddr <= entry && entry - s.vaddr < s.mem_bytes),
        "entry in an executable segment"
    );
    if let Some(phdr) = image.phdr() {
        let table = u64::from(image.phnum()) * u64::from(PHDR_BYTES);
        assert!(
            segments
                .iter()
                .any(|s| s.vaddr <= phdr && phdr + table <= s.vaddr + s.file_bytes),
            "AT_PHDR inside a segment's file bytes"
        );
    }
    if let Some(template) = image.tls() {
        assert!(
            template.file_offset + template.file_bytes <= file_len,
            "TLS in the file"
        );
        assert!(
            template.file_bytes <= template.mem_bytes,
            "TLS filesz <= memsz"
        );
        assert!(template.align.is_power_of_two(), "TLS align");
    }
    check_tls(image, file);
    check_model(image, file);
}

/// The TLS layout of `image` keeps the variant II promises, and, when the
/// block is small, writing it puts the template right below the thread
/// pointer and the self-pointer at it.
fn check_tls(image: &Image, file: &[u8]) {
    let template = image.tls();
    let biggest = tls_layout(template.as_ref(), TCB_MAX_BYTES);
    assert!(biggest.is_ok(), "a parsed template has room for any TCB");
    let layout = tls_layout(template.as_ref(), 48).expect("a parsed template has a layout");
    let (mem, align) = template.map_or((0, 1), |t| (t.mem_bytes, t.align));
    let tls_bytes = mem.div_ceil(align) * align;
    assert!(layout.block_align.is_power_of_two() && layout.block_align >= align);
    assert_eq!(layout.tp_offset % layout.block_align, 0, "tp aligned");
    assert_eq!(
        layout.data_offset + tls_bytes,
        layout.tp_offset,
        "data right below tp"
    );
    assert!(
        layout.block_bytes >= layout.tp_offset + TCB_MIN_BYTES.max(48),
        "TCB fits"
    );
    assert_eq!(layout.tp_offset + layout.tcb_bytes, layout.block_bytes);
    if layout.block_bytes > 1 << 16 {
        return;
    }
    let block_addr = 0x7000_0000_0000u64;
    let mut block = vec![0xaa; layout.block_bytes as usize];
    let tp = layout
        .write_block(file, &mut block, block_addr)
        .expect("write TLS block");
    assert_eq!(tp, block_addr + layout.tp_offset);
    let at = layout.tp_offset as usize;
    assert_eq!(block[at..at + 8], tp.to_le_bytes(), "TCB self-pointer");
    let data = layout.data_offset as usize;
    for (index, byte) in block.iter().enumerate() {
        let expected = match template {
            Some(t) if index >= data && index < data + t.file_bytes as usize => {
                file[t.file_offset as usize + index - data]
            }
            _ if index >= at && index < at + 8 => continue,
            _ => 0,
        };
        assert_eq!(*byte, expected, "TLS block byte {index}");
    }
}

/// Loads `image` the way the runtime does (fresh zero pages, direct pages
/// from the file, then the copies into fresh pages) into a model memory:
/// page address to contents. Panics if a page is mapped twice or a copy
/// lands outside the fresh pages.
pub fn load_model(image: &Image, file: &[u8]) -> BTreeMap<u64, Vec<u8>> {
    let page = PAGE_BYTES as usize;
    // Page address -> (contents, mapped from the file).
    let mut memory: BTreeMap<u64, (Vec<u8>, bool)> = BTreeMap::new();
    for segment in image.segments() {
        for run in segment.fresh_ranges().iter().flatten() {
            for index in 0..run.pages {
                let fresh = memory.insert(run.start + index * PAGE_BYTES, (vec![0; page], false));
                assert!(fresh.is_none(), "page mapped twice");
            }
        }
        if let Some(direct) = segment.direct {
            for index in 0..direct.pages {
                let from = (direct.file_offset + index * PAGE_BYTES) as usize;
                let contents = file[from..from + page].to_vec();
                let fresh = memory.insert(direct.vaddr + index * PAGE_BYTES, (contents, true));
                assert!(fresh.is_none(), "page mapped twice");
            }
        }
        for copy in segment.file_copies() {
            // Page by page: the part of the copy on each page.
            let mut done = 0;
            while done < copy.len {
                let addr = copy.vaddr + done;
                let in_page = (addr % PAGE_BYTES) as usize;
                let chunk = (copy.len - done).min(PAGE_BYTES - in_page as u64) as usize;
                let (contents, direct) = memory
                    .get_mut(&(addr - in_page as u64))
                    .expect("copy into an unmapped page");
                assert!(!*direct, "copy into a direct page");
                let from = (copy.file_offset + done) as usize;
                contents[in_page..in_page + chunk].copy_from_slice(&file[from..from + chunk]);
                done += chunk as u64;
            }
        }
    }
    memory
        .into_iter()
        .map(|(addr, (contents, _))| (addr, contents))
        .collect()
}

/// For a small image, compares every byte [`load_model`] gives with a
/// naive reading of the segments: file bytes in `[vaddr, vaddr +
/// file_bytes)`, zero elsewhere, except on a direct page, which shows its
/// whole page of the file (the bytes around the segment's too).
fn check_model(image: &Image, file: &[u8]) {
    let total: u64 = image.segments().iter().map(|s| s.pages).sum();
    if total > MODEL_MAX_PAGES {
        return;
    }
    let memory = load_model(image, file);
    let mut expected = vec![0u8; PAGE_BYTES as usize];
    for segment in image.segments() {
        let data = segment.vaddr..segment.vaddr + segment.file_bytes;
        for page in 0..segment.pages {
            let page_addr = segment.start + page * PAGE_BYTES;
            // The file bytes that fall on this page; zero around them.
            expected.fill(0);
            let from = data.start.max(page_addr);
            let to = data.end.min(page_addr + PAGE_BYTES);
            let direct = segment
                .direct
                .filter(|d| page_addr >= d.vaddr && page_addr < d.vaddr + d.pages * PAGE_BYTES);
            if let Some(direct) = direct {
                let offset = (direct.file_offset + page_addr - direct.vaddr) as usize;
                expected.copy_from_slice(&file[offset..offset + PAGE_BYTES as usize]);
            } else if from < to {
                let at = (from - page_addr) as usize;
                let offset = (segment.file_offset + from - segment.vaddr) as usize;
                let len = (to - from) as usize;
                expected[at..at + len].copy_from_slice(&file[offset..offset + len]);
            }
            assert!(memory[&page_addr] == expected, "page at {page_addr:#x}");
        }
    }
}

/// What [`elfload::section`] promises for any `file` and `name`: the same
/// answer twice; the same error, if any, whatever the name (the whole
/// table is checked first); and found bytes that lie inside `file` (they
/// borrow from it).
pub fn check_section(file: &[u8], name: &str) {
    let result = elfload::section(file, name);
    assert_eq!(
        result,
        elfload::section(file, name),
        "section is deterministic"
    );
    assert_eq!(
        result.err(),
        elfload::section(file, ".other").err(),
        "the error does not depend on the name"
    );
    if let Ok(Some(bytes)) = result {
        let start = bytes.as_ptr() as usize;
        let file_start = file.as_ptr() as usize;
        if !bytes.is_empty() {
            assert!(start >= file_start, "section bytes start inside the file");
            assert!(
                start - file_start + bytes.len() <= file.len(),
                "section bytes end inside the file"
            );
        }
    }
}
