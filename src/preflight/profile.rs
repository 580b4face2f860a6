//! Checks of the profile itself, before any connection: that it loads (the loader's refusals,
//! among them more than 25 mailboxes, become lines to fix), how many mailboxes it declares, and
//! whether their names say they are test mailboxes (operator contract: « le nom de la BAL de
//! test doit permettre d'identifier la BAL comme telle », e.g. `test1@domaine.mssante.fr`).

use super::{Finding, same, text};
use crate::yaml::error::LoadError;
use crate::target::MAX_TEST_MAILBOXES;
use crate::target::model::{Environment, Target};

/// Words that mark a local part as a test mailbox.
const TEST_MARKERS: [&str; 7] = ["test", "fictif", "fictive", "demo", "essai", "recette", "qualif"];

/// One line to fix per loader refusal (file, line, what was expected).
pub fn load_errors(errors: &[LoadError]) -> Vec<Finding> {
    errors
        .iter()
        .map(|e| {
            let expected = e.expected.clone().unwrap_or_default();
            Finding::fix(
                "profile",
                "load",
                same(e.to_string()),
                text(format!("corriger le profil : {expected}"), format!("fix the profile: {expected}")),
            )
        })
        .collect()
}

/// The mailbox count against the contract's limit, and the test naming of each mailbox.
pub fn mailboxes(t: &Target) -> Vec<Finding> {
    let n = t.mailboxes.len();
    let mut out = vec![if n > MAX_TEST_MAILBOXES {
        // The loader refuses this already; kept for profiles built in memory.
        Finding::fix(
            "mailboxes",
            "mailbox-count",
            text(format!("{n} BAL déclarées"), format!("{n} mailboxes declared")),
            text(format!("au plus {MAX_TEST_MAILBOXES} BAL de test (contrat opérateur)"), format!("at most {MAX_TEST_MAILBOXES} test mailboxes (operator contract)")),
        )
    } else {
        Finding::ok(
            "mailboxes",
            "mailbox-count",
            text(format!("{n} BAL déclarées (au plus {MAX_TEST_MAILBOXES})"), format!("{n} mailboxes declared (at most {MAX_TEST_MAILBOXES})")),
        )
    }];
    // A production run uses the operator's real production mailboxes: the test naming rule is
    // for the provisional integration's test mailboxes.
    if t.environment == Environment::Test {
        out.extend(t.mailboxes.iter().filter(|(_, m)| !looks_like_test(&m.address)).map(|(role, m)| {
            Finding::warning(
                role.as_str(),
                "mailbox-naming",
                same(m.address.clone()),
                text(
                    "le nom ne dit pas que c'est une BAL de test (contrat opérateur, ex. test1@…) : la renommer",
                    "the name does not say it is a test mailbox (operator contract, e.g. test1@…): rename it",
                ),
            )
        }));
    }
    out
}

/// True when the local part of `address` carries one of `TEST_MARKERS`.
pub fn looks_like_test(address: &str) -> bool {
    let local = address.split('@').next().unwrap_or("").to_lowercase();
    TEST_MARKERS.iter().any(|m| local.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_names_are_recognised() {
        for ok in ["test1@op.mssante.fr", "dr.martin.fictif@op.test", "BAL-Recette@op.fr", "app.demo@op.fr"] {
            assert!(looks_like_test(ok), "{ok}");
        }
        for not in ["jean.dupont@op.fr", "secretariat@test.op.fr"] {
            assert!(!looks_like_test(not), "{not}");
        }
    }
}
