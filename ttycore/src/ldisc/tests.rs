//! Unit tests of the line discipline, one behaviour each.

use alloc::vec::Vec;

use super::*;

/// Feeds `bytes`, returning the echo and the last byte's result.
fn feed(ldisc: &mut LineDiscipline, bytes: &[u8]) -> (Vec<u8>, Input) {
    let mut echo = Vec::new();
    let mut last = Input::Edited;
    for &byte in bytes {
        last = ldisc.input(byte, &mut echo);
    }
    (echo, last)
}

/// Reads everything readable now, one read per element.
fn read_all(ldisc: &mut LineDiscipline) -> Vec<Result<Vec<u8>, ReadOutcome>> {
    let mut reads = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match ldisc.read(&mut buf) {
            ReadOutcome::Bytes(n) => reads.push(Ok(buf[..n].to_vec())),
            ReadOutcome::Empty => return reads,
            other => reads.push(Err(other)),
        }
    }
}

fn cooked() -> LineDiscipline {
    LineDiscipline::new(Settings::COOKED)
}

#[test]
fn cr_and_lf_end_a_line_as_lf() {
    let mut ldisc = cooked();
    let (echo, last) = feed(&mut ldisc, b"ab\rcd\n");
    assert_eq!(echo, b"ab\r\ncd\r\n");
    assert_eq!(last, Input::Readable);
    assert_eq!(ldisc.readable_bytes(), 6);
    assert_eq!(
        read_all(&mut ldisc),
        [Ok(b"ab\n".to_vec()), Ok(b"cd\n".to_vec())]
    );
}

#[test]
fn nothing_readable_before_the_line_ends() {
    let mut ldisc = cooked();
    let (_, last) = feed(&mut ldisc, b"abc");
    assert_eq!(last, Input::Edited);
    assert!(!ldisc.can_read());
    assert_eq!(ldisc.read(&mut [0; 4]), ReadOutcome::Empty);
    assert_eq!(ldisc.pending_line(), b"abc");
}

#[test]
fn a_line_is_read_in_parts() {
    let mut ldisc = cooked();
    let _ = feed(&mut ldisc, b"hello\rx\r");
    let mut buf = [0u8; 4];
    assert_eq!(ldisc.read(&mut buf), ReadOutcome::Bytes(4));
    assert_eq!(&buf, b"hell");
    // The rest of the line, not the next line with it.
    assert_eq!(ldisc.read(&mut buf), ReadOutcome::Bytes(2));
    assert_eq!(&buf[..2], b"o\n");
    assert_eq!(ldisc.read(&mut buf), ReadOutcome::Bytes(2));
    assert_eq!(&buf[..2], b"x\n");
    assert_eq!(ldisc.read(&mut []), ReadOutcome::Bytes(0));
}

#[test]
fn backspace_and_delete_erase_one_character() {
    for erase in [0x7f, 0x08] {
        let mut ldisc = cooked();
        let (echo, _) = feed(&mut ldisc, &[b'a', b'b', erase, b'c', b'\r']);
        assert_eq!(echo, b"ab\x08 \x08c\r\n");
        assert_eq!(read_all(&mut ldisc), [Ok(b"ac\n".to_vec())]);
    }
}

#[test]
fn backspace_erases_a_whole_multibyte_character() {
    for text in ["é", "€", "😀"] {
        let mut ldisc = cooked();
        let mut input = Vec::from(b"a".as_slice());
        input.extend_from_slice(text.as_bytes());
        input.push(0x7f);
        let (echo, _) = feed(&mut ldisc, &input);
        let mut expected = Vec::from(b"a".as_slice());
        expected.extend_from_slice(text.as_bytes());
        expected.extend_from_slice(b"\x08 \x08");
        assert_eq!(echo, expected, "{text}");
        assert_eq!(ldisc.pending_line(), b"a");
    }
}

#[test]
fn backspace_erases_an_invalid_byte_alone() {
    let mut ldisc = cooked();
    let _ = feed(&mut ldisc, &[b'a', 0xe2, 0x82, 0x7f]);
    assert_eq!(ldisc.pending_line(), &[b'a', 0xe2]);
    let (echo, _) = feed(&mut ldisc, &[0x7f, 0x7f, 0x7f]);
    // Two erased units, then nothing left to erase: no echo.
    assert_eq!(echo, b"\x08 \x08\x08 \x08");
    assert_eq!(ldisc.pending_line(), b"");
}

#[test]
fn backspace_on_an_empty_line_does_nothing() {
    let mut ldisc = cooked();
    let (echo, last) = feed(&mut ldisc, &[0x7f, 0x08]);
    assert!(echo.is_empty());
    assert_eq!(last, Input::Edited);
}

#[test]
fn control_characters_echo_as_caret_and_erase_two_columns() {
    let mut ldisc = cooked();
    let (echo, _) = feed(&mut ldisc, &[0x01, 0x1b, b'\t', 0x00]);
    assert_eq!(echo, b"^A^[^I^@");
    assert_eq!(ldisc.pending_line(), &[0x01, 0x1b, b'\t', 0x00]);
    let (echo, _) = feed(&mut ldisc, &[0x7f]);
    assert_eq!(echo, b"\x08 \x08\x08 \x08");
}

#[test]
fn ctrl_u_erases_the_line() {
    let mut ldisc = cooked();
    let (echo, _) = feed(&mut ldisc, "aé\x01\x15".as_bytes());
    // a, é: one column each; ^A: two.
    assert_eq!(echo, "aé^A\x08 \x08\x08 \x08\x08 \x08\x08 \x08".as_bytes());
    assert_eq!(ldisc.pending_line(), b"");
    let _ = feed(&mut ldisc, b"ok\r");
    assert_eq!(read_all(&mut ldisc), [Ok(b"ok\n".to_vec())]);
}

#[test]
fn ctrl_w_erases_blanks_then_a_word() {
    let mut ldisc = cooked();
    let _ = feed(&mut ldisc, b"ls  -l \t");
    let (echo, _) = feed(&mut ldisc, &[0x17]);
    assert_eq!(ldisc.pending_line(), b"ls  ");
    // Tab (^I, two columns), space, then "-l".
    assert_eq!(echo, b"\x08 \x08".repeat(5));
    let _ = feed(&mut ldisc, &[0x17]);
    assert_eq!(ldisc.pending_line(), b"");
    let (echo, _) = feed(&mut ldisc, &[0x17]);
    assert!(echo.is_empty());
}

#[test]
fn ctrl_d_at_line_start_is_end_of_file_once() {
    let mut ldisc = cooked();
    let (echo, last) = feed(&mut ldisc, &[0x04]);
    assert!(echo.is_empty());
    assert_eq!(last, Input::Readable);
    assert!(ldisc.can_read());
    assert!(ldisc.at_end_of_file());
    assert_eq!(ldisc.readable_bytes(), 0);
    assert_eq!(ldisc.read(&mut [0; 4]), ReadOutcome::EndOfFile);
    assert_eq!(ldisc.read(&mut [0; 4]), ReadOutcome::Empty);
}

#[test]
fn ctrl_d_mid_line_ends_the_read_without_newline() {
    let mut ldisc = cooked();
    let _ = feed(&mut ldisc, &[b'a', b'b', 0x04, b'c', b'\r', 0x04]);
    assert_eq!(
        read_all(&mut ldisc),
        [
            Ok(b"ab".to_vec()),
            Ok(b"c\n".to_vec()),
            Err(ReadOutcome::EndOfFile)
        ]
    );
}

#[test]
fn ctrl_c_interrupts_and_discards_the_line() {
    let mut ldisc = cooked();
    let (echo, last) = feed(&mut ldisc, &[b'a', b'b', 0x03]);
    assert_eq!(last, Input::Signal(Signal::Interrupt));
    assert_eq!(echo, b"ab^C\r\n");
    assert_eq!(ldisc.pending_line(), b"");
    let _ = feed(&mut ldisc, b"x\r");
    assert_eq!(read_all(&mut ldisc), [Ok(b"x\n".to_vec())]);
}

#[test]
fn ctrl_backslash_quits() {
    let mut ldisc = cooked();
    let (echo, last) = feed(&mut ldisc, &[b'a', 0x1c]);
    assert_eq!(last, Input::Signal(Signal::Quit));
    assert_eq!(echo, b"a^\\\r\n");
    assert_eq!(ldisc.pending_line(), b"");
}

#[test]
fn without_signals_ctrl_c_is_input() {
    let mut ldisc = LineDiscipline::new(Settings {
        signals: false,
        ..Settings::COOKED
    });
    let (echo, _) = feed(&mut ldisc, &[0x03, 0x1c, b'\r']);
    assert_eq!(echo, b"^C^\\\r\n");
    assert_eq!(read_all(&mut ldisc), [Ok(alloc::vec![0x03, 0x1c, b'\n'])]);
}

#[test]
fn utf8_passes_through_intact() {
    let mut ldisc = cooked();
    let text = "héllo wörld €😀\r";
    let (echo, _) = feed(&mut ldisc, text.as_bytes());
    assert_eq!(echo, "héllo wörld €😀\r\n".as_bytes());
    assert_eq!(
        read_all(&mut ldisc),
        [Ok("héllo wörld €😀\n".as_bytes().to_vec())]
    );
}

#[test]
fn echo_off_still_edits() {
    let mut ldisc = LineDiscipline::new(Settings {
        echo: false,
        ..Settings::COOKED
    });
    let (echo, _) = feed(&mut ldisc, b"pw\x7fd\x03ab\r");
    assert!(echo.is_empty());
    assert_eq!(read_all(&mut ldisc), [Ok(b"ab\n".to_vec())]);
}

#[test]
fn line_limit_refuses_with_a_bell() {
    let mut ldisc = cooked();
    let mut echo = Vec::new();
    for _ in 0..LINE_MAX_BYTES {
        assert_eq!(ldisc.input(b'x', &mut echo), Input::Edited);
    }
    echo.clear();
    assert_eq!(ldisc.input(b'y', &mut echo), Input::Refused);
    assert_eq!(echo, [BELL]);
    // Erasing makes room; the line still ends.
    let _ = feed(&mut ldisc, &[0x7f, b'z']);
    assert_eq!(ldisc.input(b'\r', &mut echo), Input::Readable);
    let reads = read_all(&mut ldisc);
    assert_eq!(reads.len(), 1);
    let line = reads[0].as_ref().unwrap();
    assert_eq!(line.len(), LINE_MAX_BYTES + 1);
    assert_eq!(&line[LINE_MAX_BYTES - 1..], b"z\n");
}

#[test]
fn line_limit_never_splits_a_character() {
    let mut ldisc = cooked();
    let _ = feed(&mut ldisc, &[b'x'; LINE_MAX_BYTES - 1]);
    // "€" needs three bytes; only one is free: all three are refused.
    let (echo, last) = feed(&mut ldisc, "€".as_bytes());
    assert_eq!(last, Input::Refused);
    assert_eq!(echo, [BELL; 3]);
    assert_eq!(ldisc.pending_line().len(), LINE_MAX_BYTES - 1);
    assert!(core::str::from_utf8(ldisc.pending_line()).is_ok());
    let (_, last) = feed(&mut ldisc, b"a");
    assert_eq!(last, Input::Edited);
}

#[test]
fn queue_limit_refuses_lines_until_read() {
    let mut ldisc = cooked();
    let mut refused = 0;
    for _ in 0..QUEUE_MAX_BYTES {
        let (_, last) = feed(&mut ldisc, b"abc\r");
        if last == Input::Refused {
            refused += 1;
        }
    }
    assert!(refused > 0);
    assert!(ldisc.readable_bytes() <= QUEUE_MAX_BYTES);
    // End-of-file markers are bounded too.
    for _ in 0..QUEUE_MAX_BYTES {
        let _ = feed(&mut ldisc, &[0x15, 0x04]);
    }
    assert!(ldisc.queue.len() + ldisc.readable_bytes() <= QUEUE_MAX_BYTES);
    let _ = read_all(&mut ldisc);
    let (_, last) = feed(&mut ldisc, b"abc\r");
    assert_eq!(last, Input::Readable);
}

#[test]
fn raw_mode_passes_bytes_unchanged_without_echo() {
    let mut ldisc = LineDiscipline::new(Settings::RAW);
    let input = [b'a', b'\r', 0x7f, 0x03, 0x04, 0x1b, b'[', b'A', 0xff];
    let (echo, last) = feed(&mut ldisc, &input);
    assert!(echo.is_empty());
    assert_eq!(last, Input::Readable);
    assert_eq!(ldisc.readable_bytes(), input.len());
    assert_eq!(read_all(&mut ldisc), [Ok(input.to_vec())]);
}

#[test]
fn raw_mode_with_signals_keeps_ctrl_c_a_signal() {
    let mut ldisc = LineDiscipline::new(Settings {
        signals: true,
        ..Settings::RAW
    });
    let (echo, last) = feed(&mut ldisc, &[b'a', 0x03]);
    assert_eq!(last, Input::Signal(Signal::Interrupt));
    assert!(echo.is_empty());
    assert_eq!(read_all(&mut ldisc), [Ok(b"a".to_vec())]);
}

#[test]
fn raw_mode_with_echo_echoes() {
    let mut ldisc = LineDiscipline::new(Settings {
        echo: true,
        ..Settings::RAW
    });
    let (echo, _) = feed(&mut ldisc, &[b'a', 0x01, b'\r']);
    assert_eq!(echo, b"a^A\r\n");
}

#[test]
fn raw_queue_is_bounded() {
    let mut ldisc = LineDiscipline::new(Settings::RAW);
    let mut echo = Vec::new();
    let mut refused = false;
    for _ in 0..QUEUE_MAX_BYTES + 10 {
        refused |= ldisc.input(b'x', &mut echo) == Input::Refused;
    }
    assert!(refused);
    assert!(echo.is_empty());
    assert_eq!(ldisc.readable_bytes(), QUEUE_MAX_BYTES - 1);
}

#[test]
fn leaving_canonical_mode_makes_the_pending_line_readable() {
    let mut ldisc = cooked();
    let _ = feed(&mut ldisc, b"done\rhalf");
    assert_eq!(ldisc.set_settings(Settings::RAW), Input::Readable);
    let _ = feed(&mut ldisc, b"!");
    assert_eq!(
        read_all(&mut ldisc),
        [Ok(b"done\n".to_vec()), Ok(b"half!".to_vec())]
    );
    assert_eq!(ldisc.set_settings(Settings::COOKED), Input::Edited);
    assert_eq!(ldisc.settings(), Settings::COOKED);
}

#[test]
fn leaving_canonical_mode_with_a_full_queue_discards_the_line() {
    // Found by the fuzzer: the moved line used to pass the queue limit.
    let mut ldisc = cooked();
    while ldisc.queue_room() > 10 {
        let _ = feed(&mut ldisc, b"0123456789\r");
    }
    let _ = feed(&mut ldisc, b"0123456789");
    assert_eq!(ldisc.set_settings(Settings::RAW), Input::Refused);
    assert!(ldisc.readable_bytes() + ldisc.queue.len() <= QUEUE_MAX_BYTES);
    assert_eq!(ldisc.pending_line(), b"");
}

#[test]
fn flush_discards_everything() {
    let mut ldisc = cooked();
    let _ = feed(&mut ldisc, b"a\rb");
    ldisc.flush_input();
    assert!(!ldisc.can_read());
    assert_eq!(ldisc.pending_line(), b"");
}

#[test]
fn output_follows_the_crlf_setting() {
    let mut out = Vec::new();
    cooked().output(b"a\nb", &mut out);
    assert_eq!(out, b"a\r\nb");
    out.clear();
    LineDiscipline::new(Settings::RAW).output(b"a\nb", &mut out);
    assert_eq!(out, b"a\nb");
}
