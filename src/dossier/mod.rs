//! `mssconf dossier`: the solde dossier, checked and listed. A dossier file declares what the
//! agency asks beside the proofs; each item is checked where the tool can check it, and a
//! checklist (HTML + JSON) says item by item present / checked / missing. Nothing is sent.

pub mod checklist;
pub mod checks;
pub mod link;
pub mod model;
pub mod render;
#[cfg(test)]
mod tests;

use ed25519_dalek::VerifyingKey;

use checklist::{Checklist, ItemId};
use link::LinkPolicy;
use model::Dossier;

/// Checks every item of `dossier`. The only network access is one GET of the documentation
/// link, to a host the policy allows.
pub async fn assess(dossier: &Dossier, policy: &LinkPolicy, pubkey: Option<&VerifyingKey>) -> Checklist {
    let items = vec![
        checks::connection_guide(dossier.connection_guide.as_deref()),
        link::documentation_url(dossier.documentation_url.as_deref(), policy).await,
        checks::support_contacts(&dossier.support_contacts),
        checks::number(ItemId::ReferencingNumber, "referencing_number", dossier.referencing_number.as_deref()),
        checks::number(ItemId::DossierNumber, "dossier_number", dossier.dossier_number.as_deref()),
        checks::production_proof(dossier.production_bundle.as_deref(), pubkey),
    ];
    Checklist { items }
}
