//! Which job an argument of `fg`, `wait` or `kill` names: `%N`, `%%`,
//! `%+`, `%-`, or a process id.

/// What an argument names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobSpec {
    /// `%N`: job number N.
    Job(u32),
    /// `%%`, `%+` or `%`: the current job (the newest).
    Current,
    /// `%-`: the previous job (the one before the newest).
    Previous,
    /// A process id.
    Pid(u32),
}

/// Reads one argument.
///
/// # Errors
/// The argument itself, to print in `no such job` / `arguments must be
/// process or job IDs`.
pub fn parse(arg: &str) -> Result<JobSpec, &str> {
    if let Some(rest) = arg.strip_prefix('%') {
        return match rest {
            "" | "%" | "+" => Ok(JobSpec::Current),
            "-" => Ok(JobSpec::Previous),
            n => n
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .map(JobSpec::Job)
                .ok_or(arg),
        };
    }
    arg.parse()
        .ok()
        .filter(|&n| n > 0)
        .map(JobSpec::Pid)
        .ok_or(arg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(parse("%1"), Ok(JobSpec::Job(1)));
        assert_eq!(parse("%%"), Ok(JobSpec::Current));
        assert_eq!(parse("%"), Ok(JobSpec::Current));
        assert_eq!(parse("%-"), Ok(JobSpec::Previous));
        assert_eq!(parse("42"), Ok(JobSpec::Pid(42)));
        assert_eq!(parse("%x"), Err("%x"));
        assert_eq!(parse("0"), Err("0"));
        assert_eq!(parse("-1"), Err("-1"));
    }
}
