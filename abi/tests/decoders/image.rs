//! The flat image header: [`FlatImageHeader::parse`] against a model of
//! its documentation, on random bytes, on valid images, and on valid images
//! with one field changed or cut short.

use abi::boot::{
    FLAT_MAGIC, FLAT_MAX_HEADER_BYTES, FLAT_MAX_MEM_BYTES, FLAT_MAX_STACK_BYTES, FLAT_VERSION,
    FlatImageHeader, ImageError,
};
use abi::layout::{IMAGE_BASE, PAGE_BYTES};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::CASES;

/// Size of the flat image header (`header_bytes` may add padding).
const HEADER_BYTES: usize = 64;

/// The header's documented byte layout: all fields little-endian, in
/// declaration order, no padding. Written out here instead of through
/// zerocopy so the test also pins the layout.
fn header_to_bytes(h: &FlatImageHeader) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_BYTES);
    bytes.extend_from_slice(&h.magic);
    bytes.extend_from_slice(&h.version.to_le_bytes());
    bytes.extend_from_slice(&h.header_bytes.to_le_bytes());
    for word in [
        h.load_addr,
        h.entry,
        h.file_bytes,
        h.mem_bytes,
        h.stack_bytes,
        h.exec_bytes,
    ] {
        bytes.extend_from_slice(&word.to_le_bytes());
    }
    assert_eq!(bytes.len(), HEADER_BYTES);
    bytes
}

/// Reads a header from its documented layout; `None` if `bytes` is short.
fn header_from_bytes(bytes: &[u8]) -> Option<FlatImageHeader> {
    let bytes = bytes.get(..HEADER_BYTES)?;
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    Some(FlatImageHeader {
        magic: bytes[..8].try_into().unwrap(),
        version: u32_at(8),
        header_bytes: u32_at(12),
        load_addr: u64_at(16),
        entry: u64_at(24),
        file_bytes: u64_at(32),
        mem_bytes: u64_at(40),
        stack_bytes: u64_at(48),
        exec_bytes: u64_at(56),
    })
}

/// The model: whether `image` is loadable by the documentation of
/// [`FlatImageHeader`], computed in `u128` so nothing can overflow.
fn model_accepts(image: &[u8]) -> bool {
    let Some(h) = header_from_bytes(image) else {
        return false;
    };
    let page = u128::from(PAGE_BYTES);
    let load = u128::from(h.load_addr);
    let entry = u128::from(h.entry);
    let file = u128::from(h.file_bytes);
    let mem = u128::from(h.mem_bytes);
    let exec = u128::from(h.exec_bytes);
    let stack = u128::from(h.stack_bytes);
    h.magic == FLAT_MAGIC
        && h.version == FLAT_VERSION
        && h.header_bytes as usize >= HEADER_BYTES
        && h.header_bytes <= FLAT_MAX_HEADER_BYTES
        && h.load_addr == IMAGE_BASE
        && u128::from(h.header_bytes) + file <= image.len() as u128
        && file <= mem
        && mem <= u128::from(FLAT_MAX_MEM_BYTES)
        && load <= entry
        && entry < load + file
        && entry < load + exec
        && exec % page == 0
        && exec <= mem
        && stack != 0
        && stack % page == 0
        && stack <= u128::from(FLAT_MAX_STACK_BYTES)
}

/// Checks what a successful parse promises about `image`.
fn check_parsed(image: &[u8], h: &FlatImageHeader, data: &[u8]) -> Result<(), TestCaseError> {
    let load = u128::from(h.load_addr);
    let entry = u128::from(h.entry);
    prop_assert_eq!(Some(*h), header_from_bytes(image));
    prop_assert!(load <= entry && entry < load + u128::from(h.file_bytes));
    prop_assert!(entry < load + u128::from(h.exec_bytes));
    prop_assert!(h.mem_bytes >= h.file_bytes);
    prop_assert!(h.mem_bytes >= h.exec_bytes);
    prop_assert!(h.mem_bytes <= FLAT_MAX_MEM_BYTES);
    prop_assert_eq!(h.exec_bytes % PAGE_BYTES, 0);
    prop_assert_eq!(h.stack_bytes % PAGE_BYTES, 0);
    prop_assert!(h.stack_bytes != 0 && h.stack_bytes <= FLAT_MAX_STACK_BYTES);
    prop_assert_eq!(data.len() as u64, h.file_bytes);
    prop_assert_eq!(data.as_ptr(), image[h.header_bytes as usize..].as_ptr());
    Ok(())
}

/// Parses `image` and checks the outcome against [`model_accepts`] and, on
/// success, [`check_parsed`].
fn check_parse(image: &[u8]) -> Result<(), TestCaseError> {
    let accepted = model_accepts(image);
    match FlatImageHeader::parse(image) {
        Ok((h, data)) => {
            prop_assert!(accepted, "parse accepted what the model rejects: {h:#x?}");
            check_parsed(image, &h, data)?;
        }
        Err(error) => {
            prop_assert!(!accepted, "parse rejected a valid image: {error:?}");
            if let ImageError::BadField(name) = error {
                let names = [
                    "header_bytes",
                    "load_addr",
                    "entry",
                    "file_bytes",
                    "mem_bytes",
                    "stack_bytes",
                    "exec_bytes",
                ];
                prop_assert!(names.contains(&name), "unknown field {name:?}");
            }
        }
    }
    Ok(())
}

/// A loadable image: a valid header (mostly without padding), its data
/// and up to 16 trailing bytes.
fn valid_image() -> impl Strategy<Value = (FlatImageHeader, Vec<u8>)> {
    let max_stack_pages = FLAT_MAX_STACK_BYTES / PAGE_BYTES;
    let header_bytes = prop_oneof![
        3 => Just(HEADER_BYTES as u32),
        1 => HEADER_BYTES as u32..=FLAT_MAX_HEADER_BYTES,
    ];
    (
        header_bytes,
        1..=3 * PAGE_BYTES,
        any::<u64>(),
        0u64..4,
        prop_oneof![3 => 0..(1u64 << 20), 1 => Just(u64::MAX)],
        1..=max_stack_pages,
        0usize..16,
        any::<u8>(),
    )
        .prop_map(
            move |(
                header_bytes,
                file_bytes,
                entry_seed,
                extra_exec_pages,
                extra_mem,
                stack_pages,
                tail,
                fill,
            )| {
                let entry_offset = entry_seed % file_bytes;
                let exec_bytes = (entry_offset / PAGE_BYTES + 1 + extra_exec_pages) * PAGE_BYTES;
                let least_mem = file_bytes.max(exec_bytes);
                // u64::MAX stands for "exactly the largest allowed".
                let mem_bytes = if extra_mem == u64::MAX {
                    FLAT_MAX_MEM_BYTES
                } else {
                    least_mem + extra_mem
                };
                let header = FlatImageHeader {
                    magic: FLAT_MAGIC,
                    version: FLAT_VERSION,
                    header_bytes,
                    load_addr: IMAGE_BASE,
                    entry: IMAGE_BASE + entry_offset,
                    file_bytes,
                    mem_bytes,
                    stack_bytes: stack_pages * PAGE_BYTES,
                    exec_bytes,
                };
                let data = vec![fill; file_bytes as usize + tail];
                (header, data)
            },
        )
}

/// Concatenates a header, its padding (zeros up to `header_bytes`, at
/// most up to [`FLAT_MAX_HEADER_BYTES`]) and the bytes after it.
fn image_of(header: &FlatImageHeader, data: &[u8]) -> Vec<u8> {
    let mut image = header_to_bytes(header);
    let padded = header.header_bytes.min(FLAT_MAX_HEADER_BYTES) as usize;
    image.resize(padded.max(HEADER_BYTES), 0);
    image.extend_from_slice(data);
    image
}

/// One change to one part of a valid image.
#[derive(Clone, Copy, Debug)]
struct Mutation {
    /// Which part: 0 to 8 are the header fields in order, 9 the data length.
    target: u8,
    /// How the new value is made: `raw` itself, the old value plus `delta`,
    /// a page multiple, a limit, or a value another check compares with.
    how: u8,
    /// Random bits for the new value.
    raw: u64,
    /// A small signed offset.
    delta: i64,
}

/// Any [`Mutation`].
fn mutation() -> impl Strategy<Value = Mutation> {
    (0u8..10, 0u8..5, any::<u64>(), -9000i64..9000).prop_map(|(target, how, raw, delta)| Mutation {
        target,
        how,
        raw,
        delta,
    })
}

impl Mutation {
    /// The new value of a field whose old value is `old`, in `h`.
    fn value(self, h: &FlatImageHeader, old: u64) -> u64 {
        let edges = [
            0,
            1,
            PAGE_BYTES,
            IMAGE_BASE,
            FLAT_MAX_MEM_BYTES,
            FLAT_MAX_MEM_BYTES + 1,
            FLAT_MAX_STACK_BYTES,
            FLAT_MAX_STACK_BYTES + PAGE_BYTES,
            u64::MAX - PAGE_BYTES + 1,
            u64::MAX,
        ];
        // Values where one check meets another: one byte either side of
        // these is where off-by-one mistakes show.
        let related = [
            h.load_addr.wrapping_add(h.file_bytes),
            h.load_addr.wrapping_add(h.exec_bytes),
            h.entry.wrapping_sub(h.load_addr),
            h.file_bytes,
            h.mem_bytes,
            h.exec_bytes,
        ];
        let pick = |values: &[u64]| values[(self.raw % values.len() as u64) as usize];
        match self.how {
            0 => self.raw,
            1 => old.wrapping_add_signed(self.delta),
            2 => (self.raw % (2 * FLAT_MAX_MEM_BYTES / PAGE_BYTES)) * PAGE_BYTES,
            3 => pick(&edges),
            _ => pick(&related).wrapping_add_signed(self.delta % 2),
        }
    }

    /// Applies the change to a header and its data.
    fn apply(self, h: &mut FlatImageHeader, data: &mut Vec<u8>) {
        let old = *h;
        let value = |field: u64| self.value(&old, field);
        match self.target {
            0 => {
                let byte = (self.raw % 8) as usize;
                h.magic[byte] ^= (self.raw >> 8) as u8 | 1;
            }
            1 => h.version = value(u64::from(h.version)) as u32,
            2 => h.header_bytes = value(u64::from(h.header_bytes)) as u32,
            3 => h.load_addr = value(h.load_addr),
            4 => h.entry = value(h.entry),
            5 => h.file_bytes = value(h.file_bytes),
            6 => h.mem_bytes = value(h.mem_bytes),
            7 => h.stack_bytes = value(h.stack_bytes),
            8 => h.exec_bytes = value(h.exec_bytes),
            _ => {
                let len = value(data.len() as u64) % (data.len() as u64 * 2 + 64);
                data.resize(len as usize, 0xcc);
            }
        }
    }
}

/// Any header field value, biased toward values the checks care about.
fn header_word() -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => any::<u64>(),
        2 => (0u64..64).prop_map(|pages| pages * PAGE_BYTES),
        2 => 0u64..0x3000,
        2 => (0u64..0x3000).prop_map(|offset| IMAGE_BASE + offset),
        1 => (0u64..16).prop_map(|n| u64::MAX - n),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn parse_of_any_bytes_matches_model(bytes in proptest::collection::vec(any::<u8>(), 0..160)) {
        check_parse(&bytes)?;
    }

    #[test]
    fn valid_images_parse((header, data) in valid_image()) {
        let image = image_of(&header, &data);
        prop_assert!(model_accepts(&image));
        let (parsed, parsed_data) = FlatImageHeader::parse(&image)
            .map_err(|error| TestCaseError::fail(format!("{error:?}")))?;
        prop_assert_eq!(parsed, header);
        prop_assert_eq!(parsed_data, &data[..header.file_bytes as usize]);
        check_parsed(&image, &parsed, parsed_data)?;
    }

    #[test]
    fn one_mutated_field_is_accepted_only_if_valid(
        (header, data) in valid_image(),
        change in mutation(),
    ) {
        let (mut header, mut data) = (header, data);
        change.apply(&mut header, &mut data);
        check_parse(&image_of(&header, &data))?;
    }

    #[test]
    fn arbitrary_fields_after_valid_magic_match_model(
        words in proptest::array::uniform6(header_word()),
        data_len in 0usize..0x3100,
    ) {
        let [entry, file_bytes, mem_bytes, stack_bytes, exec_bytes, _] = words;
        let header = FlatImageHeader {
            magic: FLAT_MAGIC,
            version: FLAT_VERSION,
            header_bytes: HEADER_BYTES as u32,
            load_addr: IMAGE_BASE,
            entry,
            file_bytes,
            mem_bytes,
            stack_bytes,
            exec_bytes,
        };
        check_parse(&image_of(&header, &vec![0x90; data_len]))?;
    }

    #[test]
    fn prefixes_of_valid_images_never_panic(
        (header, data) in valid_image(),
        cut in any::<prop::sample::Index>(),
    ) {
        let image = image_of(&header, &data);
        let len = cut.index(image.len() + 1);
        check_parse(&image[..len])?;
    }
}
