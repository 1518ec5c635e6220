//! Fuzzes the line discipline as the console server drives it: arbitrary
//! terminal bytes, with mode changes and reads in between.
//!
//! Input: a sequence of records, each a control byte then data. The
//! control byte's low 4 bits are the settings (canonical, echo, signals,
//! output CR LF), bits 4-7 the record's data length (0 to 15 bytes); after
//! the data, one read of up to 16 bytes.
//!
//! Beyond "never panics", checks: no echo with echo off, a bell last when a
//! byte is refused with echo on, the pending line and the queue within their
//! limits, and `readable_bytes` falling by exactly what each read returns.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ttycore::ldisc::QUEUE_MAX_BYTES;
use ttycore::{BELL, Input, LINE_MAX_BYTES, LineDiscipline, ReadOutcome, Settings};

fuzz_target!(|input: &[u8]| {
    let mut ldisc = LineDiscipline::default();
    let mut echo = Vec::new();
    let mut buf = [0u8; 16];
    let mut rest = input;
    while let Some((&control, tail)) = rest.split_first() {
        let settings = Settings {
            canonical: control & 1 != 0,
            echo: control & 2 != 0,
            signals: control & 4 != 0,
            output_crlf: control & 8 != 0,
        };
        let _ = ldisc.set_settings(settings);
        let len = usize::from(control >> 4).min(tail.len());
        let (data, tail) = tail.split_at(len);
        rest = tail;
        for &byte in data {
            let result = ldisc.input(byte, &mut echo);
            if !settings.echo {
                assert!(echo.is_empty());
            }
            if result == Input::Refused && settings.echo {
                assert_eq!(echo.last(), Some(&BELL));
            }
            echo.clear();
            assert!(ldisc.pending_line().len() <= LINE_MAX_BYTES);
            assert!(ldisc.readable_bytes() < QUEUE_MAX_BYTES);
        }
        let before = ldisc.readable_bytes();
        let size = usize::from(control % 17);
        let size = size.min(buf.len());
        match ldisc.read(&mut buf[..size]) {
            ReadOutcome::Bytes(n) => {
                assert!(n <= size);
                assert_eq!(ldisc.readable_bytes(), before - n);
            }
            ReadOutcome::EndOfFile => assert_eq!(ldisc.readable_bytes(), before),
            ReadOutcome::Empty => assert_eq!(before, 0),
        }
        let mut out = Vec::new();
        ldisc.output(data, &mut out);
        assert!(out.len() >= data.len());
    }
});
