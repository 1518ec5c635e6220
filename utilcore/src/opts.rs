//! GNU-style option parsing for the coreutils: short options alone or
//! clustered (`-la`), with a value attached or in the next argument
//! (`-n3`, `-n 3`), long options (`--lines=3`, `--lines 3`), `--` to end
//! options, and options among the operands (GNU permutes them). `-` alone
//! is an operand (standard input).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// What a program accepts.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    /// Letters of options without a value.
    pub flags: &'static str,
    /// Letters of options that take a value.
    pub valued: &'static str,
    /// Long names and the letter each stands for.
    pub long: &'static [(&'static str, char)],
}

/// The options and operands found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Options in order, with their values.
    pub options: Vec<(char, Option<String>)>,
    /// The operands in order.
    pub operands: Vec<String>,
}

impl Parsed {
    /// Whether option `letter` was given.
    pub fn has(&self, letter: char) -> bool {
        self.options.iter().any(|(l, _)| *l == letter)
    }

    /// The last value of option `letter`.
    pub fn value(&self, letter: char) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(l, _)| *l == letter)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// Why the options are bad, or `--help`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptError {
    /// `--help` was given.
    Help,
    /// An unknown short option.
    Unknown(char),
    /// An unknown long option (as written).
    UnknownLong(String),
    /// A short option without its value.
    Missing(char),
    /// A long option without its value.
    MissingLong(String),
}

impl fmt::Display for OptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptError::Help => f.write_str("--help"),
            OptError::Unknown(c) => write!(f, "invalid option -- '{c}'"),
            OptError::UnknownLong(s) => write!(f, "unrecognized option '{s}'"),
            OptError::Missing(c) => write!(f, "option requires an argument -- '{c}'"),
            OptError::MissingLong(s) => write!(f, "option '{s}' requires an argument"),
        }
    }
}

/// Parses `args` (without the program name).
///
/// # Errors
/// [`OptError`]: `Help` for `--help`, or what is wrong.
pub fn parse<S: AsRef<str>>(args: &[S], spec: &Spec) -> Result<Parsed, OptError> {
    let mut parsed = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_ref();
        i += 1;
        if arg == "--" {
            parsed
                .operands
                .extend(args[i..].iter().map(|a| a.as_ref().to_string()));
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            if long == "help" {
                return Err(OptError::Help);
            }
            let (name, inline) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (long, None),
            };
            let Some(&(_, letter)) = spec.long.iter().find(|(n, _)| *n == name) else {
                return Err(OptError::UnknownLong(arg.to_string()));
            };
            if spec.valued.contains(letter) {
                let value = match inline {
                    Some(v) => v.to_string(),
                    None => {
                        let Some(v) = args.get(i) else {
                            return Err(OptError::MissingLong(arg.to_string()));
                        };
                        i += 1;
                        v.as_ref().to_string()
                    }
                };
                parsed.options.push((letter, Some(value)));
            } else {
                parsed.options.push((letter, None));
            }
            continue;
        }
        let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) else {
            parsed.operands.push(arg.to_string());
            continue;
        };
        for (at, letter) in cluster.char_indices() {
            if spec.valued.contains(letter) {
                let rest = &cluster[at + letter.len_utf8()..];
                let value = if !rest.is_empty() {
                    rest.to_string()
                } else {
                    let Some(v) = args.get(i) else {
                        return Err(OptError::Missing(letter));
                    };
                    i += 1;
                    v.as_ref().to_string()
                };
                parsed.options.push((letter, Some(value)));
                break;
            }
            if !spec.flags.contains(letter) {
                return Err(OptError::Unknown(letter));
            }
            parsed.options.push((letter, None));
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec {
        flags: "la",
        valued: "n",
        long: &[("all", 'a'), ("lines", 'n')],
    };

    #[test]
    fn clusters_values_and_operands() {
        let p = parse(&["-la", "x", "-n3", "--", "-l"], &SPEC).unwrap();
        assert!(p.has('l') && p.has('a'));
        assert_eq!(p.value('n'), Some("3"));
        assert_eq!(p.operands, ["x", "-l"]);
        let p = parse(&["-n", "5", "--lines=7", "-", "--all"], &SPEC).unwrap();
        assert_eq!(p.value('n'), Some("7"));
        assert!(p.has('a'));
        assert_eq!(p.operands, ["-"]);
    }

    #[test]
    fn errors() {
        assert_eq!(parse(&["-z"], &SPEC), Err(OptError::Unknown('z')));
        assert_eq!(parse(&["-n"], &SPEC), Err(OptError::Missing('n')));
        assert_eq!(parse(&["--help"], &SPEC), Err(OptError::Help));
        assert_eq!(
            parse(&["--bogus"], &SPEC),
            Err(OptError::UnknownLong("--bogus".into()))
        );
        assert_eq!(OptError::Unknown('z').to_string(), "invalid option -- 'z'");
        assert_eq!(
            OptError::UnknownLong("--x".into()).to_string(),
            "unrecognized option '--x'"
        );
    }
}
