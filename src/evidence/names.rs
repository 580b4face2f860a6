//! File names of evidence: proof ids and scenario ids become portable file names, and bundles get
//! the `<Operator>_<Service>_<Version>_<DDMMYY>_<n>.zip` name of the ANS deposit rule
//! (« Nom de l'exploitant_Nom du produit_Version_JJMMAA_numéroenvoi », proofs named by their
//! proof number, « INS_2.1.1.jpeg »: ANS document 004, §6.3 « Dépôt des preuves de conformité »).
//! Accented letters are transliterated (« Opérateur » → `Operateur`), not replaced.

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

/// The ASCII spelling of a Latin letter with diacritics (French and its neighbours); `None` for
/// any other character. A small table on purpose: names on a deposit are Latin script.
fn ascii_of(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' | 'Ă' | 'Ą' => "A",
        'æ' => "ae",
        'Æ' => "AE",
        'ç' | 'ć' | 'č' => "c",
        'Ç' | 'Ć' | 'Č' => "C",
        'ď' | 'đ' => "d",
        'Ď' | 'Đ' => "D",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ė' | 'Ę' | 'Ě' => "E",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' => "i",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' | 'Į' => "I",
        'ł' | 'ľ' => "l",
        'Ł' | 'Ľ' => "L",
        'ñ' | 'ń' | 'ň' => "n",
        'Ñ' | 'Ń' | 'Ň' => "N",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' | 'Ő' => "O",
        'œ' => "oe",
        'Œ' => "OE",
        'ř' => "r",
        'Ř' => "R",
        'ś' | 'š' | 'ş' => "s",
        'Ś' | 'Š' | 'Ş' => "S",
        'ß' => "ss",
        'ť' | 'ţ' => "t",
        'Ť' | 'Ţ' => "T",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ū' | 'Ů' | 'Ű' | 'Ų' => "U",
        'ý' | 'ÿ' => "y",
        'Ý' | 'Ÿ' => "Y",
        'ź' | 'ż' | 'ž' => "z",
        'Ź' | 'Ż' | 'Ž' => "Z",
        // Typographic apostrophes and quotes of French names (« L’Opérateur »).
        '’' | '‘' | '«' | '»' | '“' | '”' => "",
        _ => return None,
    })
}

/// `Opérateur Santé` → `Operateur Sante`: letters with diacritics lose them; other characters
/// are kept as they are (for `safe_file_name` to judge).
pub fn transliterate(raw: &str) -> String {
    raw.chars().fold(String::with_capacity(raw.len()), |mut out, c| {
        match ascii_of(c) {
            Some(a) => out.push_str(a),
            None => out.push(c),
        }
        out
    })
}

/// One part of a deposit name: transliterated, then made safe; `_` separates the parts, so
/// inside one every unsafe run becomes a single `-`.
fn deposit_part(raw: &str) -> String {
    let safe = safe_file_name(transliterate(raw).trim()).replace('_', "-");
    let mut out = String::with_capacity(safe.len());
    for c in safe.chars() {
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out
}

/// `<Operator>_<Service>_<Version>_<DDMMYY>` (the run's date in Paris time), without the number.
pub fn bundle_stem(target: &TargetSummary, run_started: DateTime<Utc>) -> String {
    let date = crate::util::paris::to_paris(run_started).format("%d%m%y").to_string();
    let part = deposit_part;
    format!("{}_{}_{}_{date}", part(&target.operator), part(&target.service), part(&target.version))
}

/// `<stem>_<envoi>.zip`: the deposit number the operator gives (`--envoi N`).
pub fn deposit_name(stem: &str, envoi: u32) -> String {
    format!("{stem}_{envoi}.zip")
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
        assert_eq!(bundle_stem(&target("Opé_rateur/X"), at), "Ope-rateur-X_Messagerie-Pro_2.1_010126");
    }

    #[test]
    fn accents_are_transliterated_not_replaced() {
        let at = "2026-12-07T10:00:00Z".parse().unwrap();
        assert_eq!(bundle_stem(&target("Opérateur"), at), "Operateur_Messagerie-Pro_2.1_071226");
        assert_eq!(bundle_stem(&target("L’Œuvre Santé Île-de-France"), at), "LOEuvre-Sante-Ile-de-France_Messagerie-Pro_2.1_071226");
        assert_eq!(transliterate("Ça coûte çà et là, ß"), "Ca coute ca et la, ss");
        assert_eq!(deposit_name("Operateur_Messagerie-Pro_2.1_071226", 3), "Operateur_Messagerie-Pro_2.1_071226_3.zip");
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
