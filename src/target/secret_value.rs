//! The one reader of a secret the profile points at: a mailbox password, a token, an OAuth 2.0
//! client secret or refresh token, given as `{ env: VAR }` or `{ file: path }`. The runner, the
//! token provider and `mssconf load` all read through here, so each gets the same bounded,
//! permission-checked file read ([`private_file::read_text`]) and the same wording. An error
//! names the variable or the file, never the value.

use std::path::Path;

use super::model::SecretSource;
use super::private_file;
use super::token_source::SecretRef;
use crate::secret::Secret;

/// Where a secret the harness reads itself lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretAt<'a> {
    Env(&'a str),
    /// Trimmed when read, like every secret file.
    File(&'a Path),
}

/// Why a secret could not be read. Neither variant holds any part of the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The variable is not set (or not Unicode): the profile points at nothing.
    #[error("environment variable {var} ({what}) is not set")]
    Unset { var: String, what: String },
    /// The file is missing, open to group or others, too large or not text; the text names it.
    #[error("{0}")]
    File(String),
}

/// Reads the secret at `at`; `what` says what it is for ("password", "token") in the error.
pub fn read(at: SecretAt<'_>, what: &str) -> Result<Secret, ReadError> {
    match at {
        SecretAt::Env(var) => std::env::var(var)
            .map(Secret::new)
            .map_err(|_| ReadError::Unset { var: var.to_string(), what: what.to_string() }),
        SecretAt::File(path) => {
            let text = private_file::read_text(path).map_err(ReadError::File)?;
            Ok(Secret::new(text.as_str()))
        }
    }
}

/// A mailbox's password (`mailboxes.*.password`), if the profile gives one to read.
pub fn password(source: Option<&SecretSource>) -> Result<Option<Secret>, ReadError> {
    source.and_then(SecretSource::at).map(|at| read(at, "password")).transpose()
}

impl SecretSource {
    /// Where the harness reads this secret itself; `None` for the issuer (asked over HTTP).
    pub fn at(&self) -> Option<SecretAt<'_>> {
        match self {
            SecretSource::Issuer => None,
            SecretSource::Env(var) => Some(SecretAt::Env(var)),
            SecretSource::File(path) => Some(SecretAt::File(path)),
        }
    }
}

impl SecretRef {
    pub fn at(&self) -> SecretAt<'_> {
        match self {
            SecretRef::Env(var) => SecretAt::Env(var),
            SecretRef::File(path) => SecretAt::File(path),
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    use super::*;

    const VALUE: &str = "fictitious-password-value";

    fn private(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        fs::write(&path, bytes).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        path
    }

    /// A set variable is read as is (`PATH`, set wherever tests run: no test changes the
    /// environment); a private file is read trimmed.
    #[test]
    fn a_variable_or_a_private_file_is_read() {
        let path_var = std::env::var("PATH").expect("PATH is set");
        assert_eq!(read(SecretAt::Env("PATH"), "password").unwrap().expose(), path_var);
        let dir = tempfile::tempdir().unwrap();
        let path = private(&dir, "pw", format!("{VALUE}\n").as_bytes());
        assert_eq!(password(Some(&SecretSource::File(path))).unwrap().unwrap().expose(), VALUE);
        assert!(password(Some(&SecretSource::Issuer)).unwrap().is_none());
        assert!(password(None).unwrap().is_none());
    }

    #[test]
    fn an_unset_variable_is_named_with_what_it_was_for() {
        let err = read(SecretAt::Env("MSSCONF_TEST_SECRET_VALUE_UNSET"), "password").unwrap_err();
        assert_eq!(err.to_string(), "environment variable MSSCONF_TEST_SECRET_VALUE_UNSET (password) is not set");
        assert!(matches!(err, ReadError::Unset { .. }));
    }

    #[test]
    fn a_missing_file_is_named() {
        let path = Path::new("/nonexistent/mssconf/password");
        let err = password(Some(&SecretSource::File(path.into()))).unwrap_err();
        assert!(matches!(&err, ReadError::File(m) if m.starts_with("cannot read /nonexistent/mssconf/password")), "{err}");
    }

    /// A file far larger than any secret (a log, a device) is refused without being read whole,
    /// and the error quotes none of it.
    #[test]
    fn an_oversize_file_is_refused_without_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let big = VALUE.repeat(private_file::MAX_BYTES as usize / VALUE.len() + 1);
        let path = private(&dir, "big", big.as_bytes());
        let err = read(SecretAt::File(&path), "password").unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()) && text.contains("larger than"), "{text}");
        assert!(!text.contains(VALUE), "{text}");
        let at_bound = private(&dir, "at-bound", "x".repeat(private_file::MAX_BYTES as usize).as_bytes());
        assert!(read(SecretAt::File(&at_bound), "password").is_ok());
    }

    /// A file open to others is refused before it is read (the value never enters the error).
    #[test]
    fn a_file_open_to_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = private(&dir, "pw", VALUE.as_bytes());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = read(SecretAt::File(&path), "password").unwrap_err().to_string();
        assert!(err.contains("chmod 600") && !err.contains(VALUE), "{err}");
    }
}
