//! The GNU wording of file errors, as `strerror` gives it on Linux, so
//! that messages read as the GNU tools' do (`ls: cannot access 'x': No
//! such file or directory`).

use fscore::FsError;

/// The message for `error`, as GNU tools print it.
pub fn message(error: FsError) -> &'static str {
    match error {
        FsError::NotFound => "No such file or directory",
        FsError::NotADirectory => "Not a directory",
        FsError::IsADirectory => "Is a directory",
        FsError::Exists => "File exists",
        FsError::NotEmpty => "Directory not empty",
        FsError::BadDescriptor => "Bad file descriptor",
        FsError::WrongMode => "Bad file descriptor",
        FsError::ReadOnly => "Read-only file system",
        FsError::InvalidPath => "Invalid argument",
        FsError::NameTooLong => "File name too long",
        FsError::NoSpace => "No space left on device",
        FsError::BrokenPipe => "Broken pipe",
        FsError::WouldBlock => "Resource temporarily unavailable",
        FsError::CrossDevice => "Invalid cross-device link",
        FsError::InvalidArgument => "Invalid argument",
        FsError::TooManyOpen => "Too many open files",
        FsError::NoNamespace => "No such file or directory",
        FsError::Busy => "Device or resource busy",
        FsError::FileTooLarge => "File too large",
        FsError::NotSupported => "Operation not supported",
        FsError::Io => "Input/output error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gnu_words() {
        assert_eq!(message(FsError::NotFound), "No such file or directory");
        assert_eq!(message(FsError::NotEmpty), "Directory not empty");
        for error in FsError::ALL {
            assert!(!message(error).is_empty());
        }
    }
}
