//! Unit tests of each rule, and a property test against a `VecDeque` model
//! with several writers, which also checks that writes of at most
//! `PIPE_BUF` bytes come out of the pipe whole.

use super::*;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use proptest::prelude::*;

/// A pipe with one reader and one writer open.
fn open_pipe(capacity: usize) -> Pipe {
    let mut pipe = Pipe::new(capacity);
    pipe.open_reader().unwrap();
    pipe.open_writer().unwrap();
    pipe
}

#[test]
fn bytes_come_out_in_order() {
    let mut pipe = open_pipe(PIPE_BUF);
    assert_eq!(pipe.write(b"hello"), Ok(5));
    assert_eq!(pipe.write(b", world"), Ok(7));
    assert_eq!(pipe.len(), 12);
    let mut out = [0; 8];
    assert_eq!(pipe.read(&mut out), Ok(8));
    assert_eq!(&out, b"hello, w");
    assert_eq!(pipe.read(&mut out), Ok(4));
    assert_eq!(&out[..4], b"orld");
    assert!(pipe.is_empty());
}

#[test]
fn small_capacities_are_raised_to_pipe_buf() {
    assert_eq!(Pipe::new(0).capacity(), PIPE_BUF);
    assert_eq!(Pipe::new(10).capacity(), PIPE_BUF);
    assert_eq!(Pipe::new(PIPE_BUF + 1).capacity(), PIPE_BUF + 1);
    assert_eq!(Pipe::default().capacity(), DEFAULT_CAPACITY);
}

#[test]
fn empty_pipe_blocks_readers_while_a_writer_is_left() {
    let mut pipe = open_pipe(PIPE_BUF);
    let mut out = [0; 4];
    assert!(!pipe.readable());
    assert_eq!(pipe.read(&mut out), Err(FsError::WouldBlock));
    pipe.write(b"ab").unwrap();
    pipe.close_writer().unwrap();
    assert!(pipe.readable());
    assert_eq!(pipe.read(&mut out), Ok(2));
    assert_eq!(pipe.read(&mut out), Ok(0), "end of file");
    assert!(pipe.readable());
}

#[test]
fn writes_without_readers_are_broken_pipes() {
    let mut pipe = open_pipe(PIPE_BUF);
    pipe.close_reader().unwrap();
    assert!(pipe.writable_for(1));
    assert_eq!(pipe.write(b"x"), Err(FsError::BrokenPipe));
    assert_eq!(pipe.write(b""), Err(FsError::BrokenPipe));
    assert_eq!(pipe.write(&[0; 3 * PIPE_BUF]), Err(FsError::BrokenPipe));
}

#[test]
fn small_writes_are_all_or_nothing() {
    let mut pipe = open_pipe(PIPE_BUF);
    assert_eq!(pipe.write(&[1; PIPE_BUF - 10]), Ok(PIPE_BUF - 10));
    assert!(!pipe.writable_for(11));
    assert_eq!(pipe.write(&[2; 11]), Err(FsError::WouldBlock));
    assert_eq!(
        pipe.len(),
        PIPE_BUF - 10,
        "nothing of the refused write went in"
    );
    assert!(pipe.writable_for(10));
    assert_eq!(pipe.write(&[3; 10]), Ok(10));
    assert_eq!(pipe.write(&[4; 1]), Err(FsError::WouldBlock));
}

#[test]
fn large_writes_take_what_fits() {
    let mut pipe = open_pipe(2 * PIPE_BUF);
    assert_eq!(pipe.write(&[7; PIPE_BUF]), Ok(PIPE_BUF));
    assert!(pipe.writable_for(PIPE_BUF + 1));
    assert_eq!(pipe.write(&[8; 3 * PIPE_BUF]), Ok(PIPE_BUF));
    assert!(!pipe.writable_for(PIPE_BUF + 1));
    assert_eq!(pipe.write(&[9; PIPE_BUF + 1]), Err(FsError::WouldBlock));
    let mut out = [0; 1];
    pipe.read(&mut out).unwrap();
    assert_eq!(pipe.write(&[9; PIPE_BUF + 1]), Ok(1));
}

#[test]
fn data_wraps_around_the_ring() {
    let mut pipe = open_pipe(PIPE_BUF);
    let mut out = vec![0; PIPE_BUF];
    pipe.write(&[0; 3000]).unwrap();
    assert_eq!(pipe.read(&mut out[..2000]), Ok(2000));
    let data: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(pipe.write(&data), Ok(3000));
    assert_eq!(pipe.read(&mut out[..1000]), Ok(1000));
    assert_eq!(pipe.read(&mut out), Ok(3000));
    assert_eq!(&out[..3000], &data[..]);
}

#[test]
fn zero_length_calls() {
    let mut pipe = open_pipe(PIPE_BUF);
    assert_eq!(pipe.write(&[]), Ok(0));
    assert_eq!(pipe.read(&mut []), Ok(0));
    pipe.write(&[1; PIPE_BUF]).unwrap();
    assert!(pipe.writable_for(0));
    assert_eq!(pipe.write(&[]), Ok(0), "an empty write fits a full pipe");
}

#[test]
fn counts_do_not_go_below_zero() {
    let mut pipe = Pipe::new(PIPE_BUF);
    assert_eq!(pipe.close_reader(), Err(FsError::BadDescriptor));
    assert_eq!(pipe.close_writer(), Err(FsError::BadDescriptor));
    pipe.open_reader().unwrap();
    pipe.open_reader().unwrap();
    pipe.open_writer().unwrap();
    assert_eq!((pipe.readers(), pipe.writers()), (2, 1));
    pipe.close_reader().unwrap();
    assert_eq!(pipe.write(b"still one reader"), Ok(16));
}

#[test]
fn counts_do_not_overflow() {
    let mut pipe = Pipe::new(PIPE_BUF);
    pipe.readers = u32::MAX;
    pipe.writers = u32::MAX;
    assert_eq!(pipe.open_reader(), Err(FsError::TooManyOpen));
    assert_eq!(pipe.open_writer(), Err(FsError::TooManyOpen));
}

/// Which write a byte came from: (writer, that writer's write number).
type Tag = (usize, u32);

/// The byte at `index` of write `tag`, so that the content is checked too.
fn content(tag: Tag, index: usize) -> u8 {
    (tag.0 * 31 + tag.1 as usize * 7 + index) as u8
}

#[derive(Clone, Debug)]
enum Op {
    /// Writer `n % writers` tries its pending write.
    Write(usize),
    /// A read into a buffer of this many bytes.
    Read(usize),
    /// Writer `n % writers` closes its end (its unwritten writes are lost).
    CloseWriter(usize),
    /// The reader closes its end.
    CloseReader,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => any::<usize>().prop_map(Op::Write),
        4 => prop_oneof![1usize..64, 1usize..3 * PIPE_BUF].prop_map(Op::Read),
        1 => any::<usize>().prop_map(Op::CloseWriter),
        1 => Just(Op::CloseReader),
    ]
}

/// Lengths around the atomic limit, short ones and long ones.
fn write_len() -> impl Strategy<Value = usize> {
    prop_oneof![0usize..16, PIPE_BUF - 8..PIPE_BUF + 8, 1usize..3 * PIPE_BUF,]
}

/// One writer: its writes' lengths, and how far it got.
struct Writer {
    lengths: Vec<usize>,
    /// Index of the write under way.
    next: usize,
    /// Bytes of it already in the pipe.
    done: usize,
    open: bool,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn matches_a_model_and_keeps_small_writes_whole(
        capacity in prop::sample::select(vec![PIPE_BUF, PIPE_BUF + 100, 3 * PIPE_BUF, DEFAULT_CAPACITY]),
        plans in prop::collection::vec(prop::collection::vec(write_len(), 0..12), 1..4),
        ops in prop::collection::vec(op(), 0..120),
    ) {
        let mut pipe = Pipe::new(capacity);
        pipe.open_reader().unwrap();
        let mut writers: Vec<Writer> = plans
            .into_iter()
            .map(|lengths| {
                pipe.open_writer().unwrap();
                Writer { lengths, next: 0, done: 0, open: true }
            })
            .collect();
        let mut model: VecDeque<(u8, Tag)> = VecDeque::new();
        let mut reader_open = true;
        // Every tag read, in order.
        let mut stream: Vec<Tag> = Vec::new();
        let mut out = vec![0; 3 * PIPE_BUF];
        let count = writers.len();
        let drain = (0..count * 40).map(Op::Write).chain(core::iter::repeat_n(Op::Read(3 * PIPE_BUF), 40));
        for op in ops.into_iter().chain(drain) {
            match op {
                Op::Write(n) => {
                    let id = n % count;
                    let writer = &mut writers[id];
                    if !writer.open || writer.next >= writer.lengths.len() {
                        continue;
                    }
                    let tag = (id, writer.next as u32);
                    let whole = writer.lengths[writer.next];
                    let data: Vec<u8> = (writer.done..whole).map(|i| content(tag, i)).collect();
                    let free = capacity - model.len();
                    let expected = if !reader_open {
                        Err(FsError::BrokenPipe)
                    } else if data.len() <= PIPE_BUF {
                        if free >= data.len() { Ok(data.len()) } else { Err(FsError::WouldBlock) }
                    } else if free > 0 {
                        Ok(free.min(data.len()))
                    } else {
                        Err(FsError::WouldBlock)
                    };
                    prop_assert_eq!(pipe.writable_for(data.len()), expected != Err(FsError::WouldBlock));
                    prop_assert_eq!(pipe.write(&data), expected);
                    if let Ok(written) = expected {
                        model.extend(data[..written].iter().map(|&byte| (byte, tag)));
                        writer.done += written;
                        if writer.done == whole {
                            writer.next += 1;
                            writer.done = 0;
                        }
                    } else if !reader_open {
                        writer.next = writer.lengths.len();
                    }
                }
                Op::Read(len) => {
                    if !reader_open {
                        continue;
                    }
                    let writers_left = writers.iter().any(|w| w.open);
                    let expected = if model.is_empty() && writers_left {
                        Err(FsError::WouldBlock)
                    } else {
                        Ok(len.min(model.len()))
                    };
                    prop_assert_eq!(pipe.readable(), expected.is_ok());
                    prop_assert_eq!(pipe.read(&mut out[..len]), expected);
                    for &byte in &out[..expected.unwrap_or(0)] {
                        let (model_byte, tag) = model.pop_front().unwrap();
                        prop_assert_eq!(byte, model_byte);
                        stream.push(tag);
                    }
                }
                Op::CloseWriter(n) => {
                    let writer = &mut writers[n % count];
                    if writer.open {
                        writer.open = false;
                        pipe.close_writer().unwrap();
                    }
                }
                Op::CloseReader => {
                    if reader_open {
                        reader_open = false;
                        pipe.close_reader().unwrap();
                    }
                }
            }
            prop_assert_eq!(pipe.len(), model.len());
            prop_assert!(pipe.len() <= pipe.capacity());
        }
        // Each writer's bytes come out in its order, and a write of at most
        // PIPE_BUF bytes as one contiguous run.
        let mut position = 0;
        while position < stream.len() {
            let tag = stream[position];
            let run = stream[position..].iter().take_while(|&&t| t == tag).count();
            let whole = writers[tag.0].lengths[tag.1 as usize];
            // The last run may be a write the reader stopped in the middle
            // of (it closed); every other run is complete.
            let complete = position + run < stream.len() || model.is_empty();
            if whole <= PIPE_BUF && complete {
                prop_assert_eq!(run, whole, "write {:?} split", tag);
            }
            position += run;
        }
        for id in 0..count {
            let tags: Vec<u32> = stream.iter().filter(|t| t.0 == id).map(|t| t.1).collect();
            prop_assert!(tags.windows(2).all(|pair| pair[0] <= pair[1]));
        }
    }
}

#[test]
fn peek_keeps_bytes_until_consumed() {
    let mut pipe = Pipe::new(PIPE_BUF);
    pipe.open_reader().unwrap();
    pipe.open_writer().unwrap();
    assert_eq!(pipe.peek(&mut [0; 4]), Err(FsError::WouldBlock));
    // Wrap the ring so the peek crosses its end.
    pipe.write(&[9; PIPE_BUF - 2]).unwrap();
    pipe.consume(PIPE_BUF - 4);
    pipe.write(b"abcd").unwrap();
    let mut out = [0u8; 8];
    assert_eq!(pipe.peek(&mut out), Ok(6));
    assert_eq!(&out[..6], b"\x09\x09abcd");
    assert_eq!(pipe.len(), 6);
    pipe.consume(3);
    assert_eq!(pipe.read(&mut out), Ok(3));
    assert_eq!(&out[..3], b"bcd");
    pipe.consume(10);
    assert!(pipe.is_empty());
    pipe.close_writer().unwrap();
    assert_eq!(pipe.peek(&mut out), Ok(0));
}

#[test]
fn copies_by_the_caller_see_both_pieces_of_a_wrap() {
    let mut pipe = open_pipe(PIPE_BUF);
    assert_eq!(pipe.write(&[1; 4000]), Ok(4000));
    assert_eq!(pipe.read(&mut [0; 3000]), Ok(3000));
    // 1,000 held at 3,000..4,000: 2,000 more wrap after 96 bytes.
    let mut pieces = Vec::new();
    let data: Vec<u8> = (0..2000u32).map(|i| i as u8).collect();
    let written = pipe.write_with(2000, |at, room| {
        pieces.push((at, room.len()));
        room.copy_from_slice(&data[at..at + room.len()]);
    });
    assert_eq!(written, Ok(2000));
    assert_eq!(pieces, [(0, 96), (96, 1904)]);
    let mut seen = Vec::new();
    let mut out = vec![0u8; 3000];
    let read = pipe.read_with(3000, |at, bytes| {
        seen.push((at, bytes.len()));
        out[at..at + bytes.len()].copy_from_slice(bytes);
    });
    assert_eq!(read, Ok(3000));
    assert_eq!(seen, [(0, 1096), (1096, 1904)]);
    assert!(out[..1000].iter().all(|&b| b == 1));
    assert_eq!(&out[1000..], &data[..]);
}
