//! Where the PKI's PEM files live, and how they are written (keys 0600, atomically).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::PkiError;

/// A certificate (leaf then issuer) and its private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertKeyFiles {
    /// File name stem and certificate label (`app1`, `app1-expired`…).
    pub role: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl CertKeyFiles {
    fn in_dir(dir: &Path, role: &str) -> Self {
        CertKeyFiles {
            role: role.to_string(),
            cert: dir.join(format!("{role}.crt.pem")),
            key: dir.join(format!("{role}.key.pem")),
        }
    }
}

/// Absolute paths of every file of the test PKI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiFiles {
    pub dir: PathBuf,
    /// The stand-in IGC-Santé root: the only trust anchor of the generated target profile.
    pub ca: PathBuf,
    pub foreign_ca: PathBuf,
    /// Server leaf + root.
    pub server_chain: PathBuf,
    pub server_key: PathBuf,
    pub foreign_server_chain: PathBuf,
    /// Server leaf signed by the root but expired (fault `expired-server-cert`) + root.
    pub expired_server_chain: PathBuf,
    pub app1: CertKeyFiles,
    pub app2: CertKeyFiles,
    pub app1_expired: CertKeyFiles,
    pub app1_foreign: CertKeyFiles,
    /// A valid-looking app1 certificate from the root, listed in the root's CRL.
    pub app1_revoked: CertKeyFiles,
    /// The root's CRL (DER), listing `app1_revoked` (published over HTTP at `/crl/root.crl`).
    pub crl: PathBuf,
    /// The root's CRL listing the server certificate too (fault `revoked-server-cert`).
    pub crl_server_revoked: PathBuf,
    pub manifest: PathBuf,
}

impl PkiFiles {
    pub fn in_dir(dir: &Path) -> Self {
        PkiFiles {
            dir: dir.to_path_buf(),
            ca: dir.join("ca.pem"),
            foreign_ca: dir.join("foreign-ca.pem"),
            server_chain: dir.join("server.chain.pem"),
            server_key: dir.join("server.key.pem"),
            foreign_server_chain: dir.join("foreign-server.chain.pem"),
            expired_server_chain: dir.join("expired-server.chain.pem"),
            app1: CertKeyFiles::in_dir(dir, "app1"),
            app2: CertKeyFiles::in_dir(dir, "app2"),
            app1_expired: CertKeyFiles::in_dir(dir, "app1-expired"),
            app1_foreign: CertKeyFiles::in_dir(dir, "app1-foreign"),
            app1_revoked: CertKeyFiles::in_dir(dir, "app1-revoked"),
            crl: dir.join("root.crl"),
            crl_server_revoked: dir.join("root-server-revoked.crl"),
            manifest: dir.join("pki.manifest"),
        }
    }

    pub fn client_pairs(&self) -> [&CertKeyFiles; 5] {
        [&self.app1, &self.app2, &self.app1_expired, &self.app1_foreign, &self.app1_revoked]
    }
}

/// Writes `text` to `path` through a temporary file and a rename, so that a reader (or a second
/// mock sharing the directory) never sees half a file. Keys are created mode 0600.
pub fn write_pem(path: &Path, text: &str, private: bool) -> Result<(), PkiError> {
    write_bytes(path, text.as_bytes(), private)
}

/// [`write_pem`] for any bytes (the DER CRL).
pub fn write_bytes(path: &Path, bytes: &[u8], private: bool) -> Result<(), PkiError> {
    let io_err = |source| PkiError::Io { path: path.to_path_buf(), source };
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    if private {
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io_err)?;
    file.write_all(bytes).map_err(io_err)?;
    file.sync_all().map_err(io_err)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io_err)
}
