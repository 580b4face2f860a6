//! What a generated PKI was made for, so that the next start can tell whether to reuse it.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use super::{PkiError, PkiFiles, PkiSpec, files};

/// Bumped whenever the set of files or their content rules change (4: the revoked certificates
/// and CRLs, and the expired server chain).
const FORMAT: &str = "4";
/// The subdirectory of the PKI directory holding this format's files.
pub const FORMAT_DIR: &str = "format-4";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    spec: PkiSpec,
    /// End of validity of the shortest-lived valid certificate.
    valid_until: i64,
    format: String,
}

impl Manifest {
    pub fn new(spec: &PkiSpec, valid_until: OffsetDateTime) -> Self {
        Manifest { spec: spec.clone(), valid_until: valid_until.unix_timestamp(), format: FORMAT.into() }
    }

    /// The manifest of an earlier start, `None` when absent or unreadable.
    pub fn load(files: &PkiFiles) -> Option<Manifest> {
        let text = std::fs::read_to_string(&files.manifest).ok()?;
        let fields: BTreeMap<&str, &str> =
            text.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.trim(), v.trim())).collect();
        Some(Manifest {
            spec: PkiSpec {
                host_name: fields.get("host_name")?.to_string(),
                app1: fields.get("app1")?.to_string(),
                app2: fields.get("app2")?.to_string(),
            },
            valid_until: fields.get("valid_until")?.parse().ok()?,
            format: fields.get("format")?.to_string(),
        })
    }

    /// Reusable when made for the same names, in this format, and valid for at least one more day.
    pub fn still_fits(&self, spec: &PkiSpec, now: OffsetDateTime) -> bool {
        self.format == FORMAT && &self.spec == spec && (now + Duration::days(1)).unix_timestamp() < self.valid_until
    }

    pub fn save(&self, files: &PkiFiles) -> Result<(), PkiError> {
        let text = format!(
            "# mssconf-mock test PKI; delete this directory to regenerate it\nformat={}\nhost_name={}\napp1={}\napp2={}\nvalid_until={}\n",
            self.format, self.spec.host_name, self.spec.app1, self.spec.app2, self.valid_until
        );
        files::write_pem(&files.manifest, &text, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_only_same_spec_before_expiry() {
        let spec = PkiSpec { host_name: "h".into(), app1: "a@d".into(), app2: "b@d".into() };
        let now = OffsetDateTime::now_utc();
        let m = Manifest::new(&spec, now + Duration::days(10));
        assert!(m.still_fits(&spec, now));
        assert!(!m.still_fits(&spec, now + Duration::days(9) + Duration::hours(1)));
        assert!(!m.still_fits(&PkiSpec { host_name: "x".into(), ..spec.clone() }, now));
    }

    #[test]
    fn round_trips_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let files = PkiFiles::in_dir(dir.path());
        let spec = PkiSpec { host_name: "h".into(), app1: "a@d".into(), app2: "b@d".into() };
        let m = Manifest::new(&spec, OffsetDateTime::now_utc());
        m.save(&files).unwrap();
        assert_eq!(Manifest::load(&files), Some(m));
    }
}
