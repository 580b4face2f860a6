//! File names of evidence: proof ids and scenario ids become portable file names, and bundles get
//! the `<Operator>_<Service>_<Version>_<DDMMYY>_<n>.zip` name the ANS deposit convention uses.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::record::TargetSummary;

/// A name safe on every common file system: letters, digits, `.`, `-` and `_` are kept, every
/// other character (`/`, `\`, `:`, spaces, accents, control characters…) becomes `_`. A name that
/// would be empty, start with a dot or be a Windows device name gets a leading `_`.
pub fn safe_file_name(raw: &str) -> String {
    let mut out: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .collect();
    // Windows drops trailing dots and spaces: keep the name as written.
    while out.ends_with('.') {
        out.pop();
        out.push('_');
    }
    if out.is_empty() || out.starts_with('.') || is_windows_device(&out) {
        out.insert(0, '_');
    }
    // Very long ids would hit the 255-byte limit once an extension is added.
    out.truncate(200);
    out
}

fn is_windows_device(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("").to_ascii_uppercase();
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4 && (stem.starts_with("COM") || stem.starts_with("LPT")) && stem.as_bytes()[3].is_ascii_digit())
}

/// The file name of a proof: `OPE/TLS.01.01.01` + `png` → `OPE_TLS.01.01.01.png`.
pub fn proof_file_name(proof_id: &str, extension: &str) -> String {
    format!("{}.{extension}", safe_file_name(proof_id))
}

/// `<Operator>_<Service>_<Version>_<DDMMYY>` (the run's date in Paris time), without the number.
pub fn bundle_stem(target: &TargetSummary, run_started: DateTime<Utc>) -> String {
    let date = crate::report::paris::to_paris(run_started).format("%d%m%y").to_string();
    // `_` separates the parts, so it may not appear inside one.
    let part = |s: &str| safe_file_name(s).replace('_', "-");
    format!("{}_{}_{}_{date}", part(&target.operator), part(&target.service), part(&target.version))
}

/// The first `<stem>_<n>.zip` (n from 1) that does not exist in `dir`.
pub fn free_bundle_name(dir: &Path, stem: &str) -> String {
    (1u32..)
        .map(|n| format!("{stem}_{n}.zip"))
        .find(|name| !dir.join(name).exists())
        .expect("an unbounded range yields a free name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_characters_are_replaced() {
        assert_eq!(safe_file_name("OPE/TLS.01.01.01"), "OPE_TLS.01.01.01");
        assert_eq!(safe_file_name(r"a\b:c*d?e<f>g|h i"), "a_b_c_d_e_f_g_h_i");
        assert_eq!(safe_file_name("réponse"), "r_ponse");
        assert_eq!(safe_file_name("x\u{0}y\n"), "x_y_");
    }

    #[test]
    fn dangerous_names_are_defused() {
        assert_eq!(safe_file_name(""), "_");
        assert_eq!(safe_file_name(".."), "_._");
        assert_eq!(safe_file_name(".hidden"), "_.hidden");
        assert_eq!(safe_file_name("../../etc/passwd"), "_.._.._etc_passwd");
        assert_eq!(safe_file_name("CON"), "_CON");
        assert_eq!(safe_file_name("com1.txt"), "_com1.txt");
        assert_eq!(safe_file_name("COMPANY"), "COMPANY");
        assert_eq!(safe_file_name("name."), "name_");
        assert_eq!(safe_file_name(&"a".repeat(300)).len(), 200);
    }

    #[test]
    fn proof_names() {
        assert_eq!(proof_file_name("OPE/TLS.01.01.02", "png"), "OPE_TLS.01.01.02.png");
    }

    fn target(operator: &str) -> TargetSummary {
        TargetSummary {
            name: "t".into(),
            operator: operator.into(),
            service: "Messagerie Pro".into(),
            version: "2.1".into(),
            environment: "test".into(),
            domain: "d".into(),
            server_name: "s".into(),
            endpoints: vec![],
            claims: vec![],
            embedded_mock: false,
        }
    }

    #[test]
    fn bundle_stem_uses_the_paris_date() {
        // 23:30 UTC on 31 Dec is already 1 January in Paris.
        let at = "2025-12-31T23:30:00Z".parse().unwrap();
        assert_eq!(bundle_stem(&target("Opé_rateur/X"), at), "Op--rateur-X_Messagerie-Pro_2.1_010126");
    }

    #[test]
    fn first_free_number() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(free_bundle_name(dir.path(), "A_B_1_010126"), "A_B_1_010126_1.zip");
        std::fs::write(dir.path().join("A_B_1_010126_1.zip"), b"").unwrap();
        std::fs::write(dir.path().join("A_B_1_010126_3.zip"), b"").unwrap();
        assert_eq!(free_bundle_name(dir.path(), "A_B_1_010126"), "A_B_1_010126_2.zip");
    }
}
