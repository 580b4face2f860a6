//! Every fixed text of the HTML report, in French (default) and English. Verdicts and the words
//! other outputs print too come from [`crate::record::words`].

use crate::lang::Lang;
use crate::record::Outcome;
use crate::record::words::{self, verdict};
use crate::report::summary::RequirementStatus;
use crate::requirement::{Confidence, Nature};

pub struct Labels {
    pub html_lang: &'static str,
    pub title: &'static str,
    pub mock_warning: &'static str,
    pub run: &'static str,
    pub target: &'static str,
    pub operator: &'static str,
    pub service: &'static str,
    pub target_version: &'static str,
    pub environment: &'static str,
    pub domain: &'static str,
    pub server_name: &'static str,
    pub trust_anchors: &'static str,
    /// Marks an anchor whose subject is an IGC-Santé one / is not.
    pub igc_sante: &'static str,
    pub not_igc_sante: &'static str,
    pub endpoints: &'static str,
    pub claims: &'static str,
    pub run_id: &'static str,
    pub started: &'static str,
    pub finished: &'static str,
    pub not_finished: &'static str,
    pub paris_time: &'static str,
    pub duration: &'static str,
    pub tool: &'static str,
    pub selection: &'static str,
    pub everything: &'static str,
    pub summary: &'static str,
    pub scenarios: &'static str,
    pub total: &'static str,
    pub requirements: &'static str,
    pub col_id: &'static str,
    pub col_official: &'static str,
    pub col_text: &'static str,
    pub col_nature: &'static str,
    pub col_confidence: &'static str,
    pub col_profile: &'static str,
    pub col_status: &'static str,
    pub unknown_requirement: &'static str,
    pub reason_not_checkable: &'static str,
    pub title_field: &'static str,
    pub profile: &'static str,
    pub tags: &'static str,
    pub file: &'static str,
    pub verdict: &'static str,
    pub reason: &'static str,
    pub confidence_note: &'static str,
    pub description: &'static str,
    pub steps: &'static str,
    pub no_steps: &'static str,
    pub step: &'static str,
    /// `Étape 1 (tentative 2)`: a step repeated in an audit.
    pub attempt: &'static str,
    pub kind: &'static str,
    pub server_wait: &'static str,
    pub error: &'static str,
    pub checks: &'static str,
    pub no_checks: &'static str,
    pub what: &'static str,
    pub expected: &'static str,
    pub actual: &'static str,
    pub result: &'static str,
    pub check_ok: &'static str,
    pub check_ko: &'static str,
    /// An observation or préconisation not followed (never a failure).
    pub check_advice: &'static str,
    /// Badge of a scenario with observations or préconisations not followed.
    pub advice_badge: &'static str,
    pub proofs: &'static str,
    pub proof_id: &'static str,
    pub messages: &'static str,
    pub direction: &'static str,
    pub sent: &'static str,
    pub received: &'static str,
    pub subject: &'static str,
    pub size: &'static str,
    pub transcript: &'static str,
    pub times_utc: &'static str,
    pub no_transcript: &'static str,
    pub lines_cut: &'static str,
    pub none: &'static str,
    pub generated_by: &'static str,
    pub contents: &'static str,
    /// Between a name and its value (French puts a space before the colon).
    pub colon: &'static str,
}

pub const FR: Labels = Labels {
    html_lang: "fr",
    title: "Rapport de tests (auto-évaluation) — API LPS MSSanté",
    mock_warning: "Cible simulée (opérateur fictif intégré à l'outil) : ce rapport ne vaut pas attestation de conformité.",
    run: words::FR.run,
    target: words::FR.target,
    operator: "Opérateur",
    service: "Service",
    target_version: "Version de la cible",
    environment: "Environnement",
    domain: "Domaine",
    server_name: "Nom du serveur",
    trust_anchors: "Ancres de confiance (sujet, SHA-256)",
    igc_sante: "IGC-Santé",
    not_igc_sante: "hors IGC-Santé",
    endpoints: words::FR.endpoints,
    claims: "Profil(s) sélectionné(s)",
    run_id: "Identifiant d'exécution",
    started: "Début",
    finished: "Fin",
    not_finished: "exécution non terminée",
    paris_time: "heure de Paris",
    duration: "Durée",
    tool: words::FR.tool,
    selection: "Sélection",
    everything: "tous les scénarios",
    summary: "Synthèse",
    scenarios: "Scénarios",
    total: "total",
    requirements: words::FR.requirements,
    col_id: "Identifiant mssconf",
    col_official: "Réf. officielles du REM (référentiel d'exigences et de scénarios de conformité)",
    col_text: "Énoncé",
    col_nature: "Nature",
    col_confidence: "Confiance",
    col_profile: "Profil",
    col_status: "Statut",
    unknown_requirement: "absente de l'index des exigences",
    reason_not_checkable: words::FR.reason,
    title_field: "Titre",
    profile: "Profil",
    tags: "Étiquettes",
    file: "Fichier",
    verdict: words::FR.verdict,
    reason: words::FR.reason,
    confidence_note: "Note de confiance",
    description: "Description",
    steps: words::FR.steps,
    no_steps: "aucune étape exécutée",
    step: words::FR.step,
    attempt: words::FR.attempt,
    kind: "Type",
    server_wait: "attente serveur",
    error: "Erreur",
    checks: words::FR.checks,
    no_checks: "aucune vérification",
    what: "Élément vérifié",
    expected: "Attendu",
    actual: "Observé",
    result: "Résultat",
    check_ok: "✔ OK",
    check_ko: "✘ ÉCHEC",
    check_advice: "▲ NON SUIVI (avis)",
    advice_badge: "préconisation / observation non suivie",
    proofs: "Preuves",
    proof_id: "Preuve",
    messages: "Messages",
    direction: "Sens",
    sent: words::FR.sent,
    received: words::FR.received,
    subject: "Objet",
    size: "Taille (octets)",
    transcript: "Transcription des échanges",
    times_utc: words::FR.times_utc,
    no_transcript: "aucune ligne échangée",
    lines_cut: "lignes omises ici ; la transcription complète figure dans les fichiers de preuve",
    none: "—",
    generated_by: "Rapport produit par",
    contents: "Sommaire",
    colon: " : ",
};

pub const EN: Labels = Labels {
    html_lang: "en",
    title: "Test report (self-assessment) — MSSanté API LPS",
    mock_warning: "Simulated target (the tool's embedded fictitious operator): this report does not attest conformance.",
    run: words::EN.run,
    target: words::EN.target,
    operator: "Operator",
    service: "Service",
    target_version: "Target version",
    environment: "Environment",
    domain: "Domain",
    server_name: "Server name",
    trust_anchors: "Trust anchors (subject, SHA-256)",
    igc_sante: "IGC-Santé",
    not_igc_sante: "not IGC-Santé",
    endpoints: words::EN.endpoints,
    claims: "Selected profile(s)",
    run_id: "Run id",
    started: "Started",
    finished: "Finished",
    not_finished: "run not finished",
    paris_time: "Paris time",
    duration: "Duration",
    tool: words::EN.tool,
    selection: "Selection",
    everything: "all scenarios",
    summary: "Summary",
    scenarios: "Scenarios",
    total: "total",
    requirements: words::EN.requirements,
    col_id: "mssconf id",
    col_official: "Official REM ids (requirements and conformance scenarios)",
    col_text: "Statement",
    col_nature: "Nature",
    col_confidence: "Confidence",
    col_profile: "Profile",
    col_status: "Status",
    unknown_requirement: "missing from the requirement index",
    reason_not_checkable: words::EN.reason,
    title_field: "Title",
    profile: "Profile",
    tags: "Tags",
    file: "File",
    verdict: words::EN.verdict,
    reason: words::EN.reason,
    confidence_note: "Confidence note",
    description: "Description",
    steps: words::EN.steps,
    no_steps: "no step was run",
    step: words::EN.step,
    attempt: words::EN.attempt,
    kind: "Kind",
    server_wait: "server wait",
    error: "Error",
    checks: words::EN.checks,
    no_checks: "no check",
    what: "Checked",
    expected: "Expected",
    actual: "Observed",
    result: "Result",
    check_ok: "✔ OK",
    check_ko: "✘ FAILED",
    check_advice: "▲ NOT FOLLOWED (advice)",
    advice_badge: "recommendation / observation not followed",
    proofs: "Proofs",
    proof_id: "Proof",
    messages: "Messages",
    direction: "Direction",
    sent: words::EN.sent,
    received: words::EN.received,
    subject: "Subject",
    size: "Size (bytes)",
    transcript: "Transcript",
    times_utc: words::EN.times_utc,
    no_transcript: "no line exchanged",
    lines_cut: "lines left out here; the evidence files hold the full transcript",
    none: "—",
    generated_by: "Report produced by",
    contents: "Contents",
    colon: ": ",
};

pub fn labels(lang: Lang) -> &'static Labels {
    match lang {
        Lang::Fr => &FR,
        Lang::En => &EN,
    }
}

/// Heading of a retried scenario's earlier attempts (`--retries`).
pub fn earlier_attempts(lang: Lang) -> &'static str {
    match lang {
        Lang::Fr => "Tentatives précédentes",
        Lang::En => "Earlier attempts",
    }
}

pub fn requirement_status(lang: Lang, s: RequirementStatus) -> &'static str {
    use RequirementStatus as S;
    match (lang, s) {
        (_, S::Pass) => verdict(Outcome::Pass, lang).report,
        (_, S::Fail) => verdict(Outcome::Fail, lang).report,
        (_, S::Error) => verdict(Outcome::Error, lang).report,
        (_, S::Interrupted) => verdict(Outcome::Interrupted, lang).report,
        (_, S::Skip) => verdict(Outcome::Skip, lang).report,
        (Lang::Fr, S::Partial) => "partiellement vérifiée",
        (Lang::En, S::Partial) => "partly checked",
        (Lang::Fr, S::NotRun) => "aucun scénario dans cette exécution",
        (Lang::En, S::NotRun) => "no scenario in this run",
        (Lang::Fr, S::NotCheckable) => "non vérifiable de l'extérieur",
        (Lang::En, S::NotCheckable) => "not checkable from outside",
    }
}

pub fn nature(lang: Lang, n: Nature) -> &'static str {
    match (lang, n) {
        (Lang::Fr, Nature::Exigence) => "exigence",
        (Lang::Fr, Nature::Preconisation) => "préconisation",
        (Lang::En, Nature::Exigence) => "requirement",
        (Lang::En, Nature::Preconisation) => "recommendation",
    }
}

/// The reference's confidence marks, spelled out (tooltip text).
pub fn confidence(lang: Lang, c: Confidence) -> (&'static str, &'static str) {
    match (lang, c) {
        (Lang::Fr, Confidence::V) => ("V", "vérifiée dans une source officielle"),
        (Lang::Fr, Confidence::V2) => ("V2", "vérifiée dans une source secondaire la citant"),
        (Lang::Fr, Confidence::I) => ("I", "déduite"),
        (Lang::Fr, Confidence::U) => ("U", "incertaine"),
        (Lang::En, Confidence::V) => ("V", "verified in an official source"),
        (Lang::En, Confidence::V2) => ("V2", "verified in a secondary source quoting it"),
        (Lang::En, Confidence::I) => ("I", "inferred"),
        (Lang::En, Confidence::U) => ("U", "uncertain"),
    }
}

#[cfg(test)]
mod tests {
    use crate::lang::Lang;
    use crate::requirement::RequirementIndex;

    /// The words of the agency's documents: a self-assessment test report, selected profiles,
    /// REM spelled out, ids said to be this tool's.
    #[test]
    fn the_report_speaks_the_agencys_words() {
        let mut record = crate::report::tests::empty_record();
        record.target.claims = vec!["per-org".into()];
        let html = crate::report::html::render_html(&record, &RequirementIndex { requirements: vec![] }, Lang::Fr);
        assert!(html.contains("<h1>Rapport de tests (auto-évaluation) — API LPS MSSanté</h1>"), "{html}");
        assert!(!html.contains("Rapport de conformité"));
        assert!(html.contains("<dt>Profil(s) sélectionné(s)</dt>"), "{html}");
        assert!(!html.contains("Fonctions déclarées"));
        let fr = super::labels(Lang::Fr);
        assert!(fr.col_official.contains("REM (référentiel d'exigences et de scénarios de conformité)"));
        assert_eq!(fr.col_id, "Identifiant mssconf");
        let en = crate::report::html::render_html(&record, &RequirementIndex { requirements: vec![] }, Lang::En);
        assert!(en.contains("Test report (self-assessment)") && en.contains("Selected profile(s)"), "{en}");
    }
}
