//! The checklist: one item per piece the agency asks for, each present / checked / missing (or
//! checked and found wrong), with a note in French and in English.

use serde::Serialize;

use crate::lang::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemId {
    ConnectionGuide,
    DocumentationUrl,
    SupportContacts,
    ReferencingNumber,
    DossierNumber,
    ProductionProof,
}

impl ItemId {
    pub fn label(self, lang: Lang) -> &'static str {
        use ItemId::*;
        match (lang, self) {
            (Lang::Fr, ConnectionGuide) => "Guide de connexion (PDF) pour les éditeurs et clients finaux",
            (Lang::Fr, DocumentationUrl) => "Lien vers la documentation publique",
            (Lang::Fr, SupportContacts) => "Contacts du support",
            (Lang::Fr, ReferencingNumber) => "Numéro de référencement / d'attestation",
            (Lang::Fr, DossierNumber) => "Numéro de dossier",
            (Lang::Fr, ProductionProof) => "Preuve du test technique en production (archive signée)",
            (Lang::En, ConnectionGuide) => "Connection guide (PDF) for publishers and end clients",
            (Lang::En, DocumentationUrl) => "Public documentation link",
            (Lang::En, SupportContacts) => "Support contacts",
            (Lang::En, ReferencingNumber) => "Référencement / attestation number",
            (Lang::En, DossierNumber) => "Dossier number",
            (Lang::En, ProductionProof) => "Production technical test proof (signed bundle)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Declared and verified by the tool.
    Checked,
    /// Declared; nothing the tool can check (or not checkable here: the note says why).
    Present,
    /// Not declared, or declared but not found.
    Missing,
    /// Declared and checked: it is wrong (not a PDF, dead link, malformed contact, bad bundle).
    Invalid,
}

impl Status {
    pub fn label(self, lang: Lang) -> &'static str {
        match (lang, self) {
            (Lang::Fr, Status::Checked) => "présent, vérifié",
            (Lang::Fr, Status::Present) => "présent, non vérifiable",
            (Lang::Fr, Status::Missing) => "manquant",
            (Lang::Fr, Status::Invalid) => "présent, vérification échouée",
            (Lang::En, Status::Checked) => "present, checked",
            (Lang::En, Status::Present) => "present, not checkable",
            (Lang::En, Status::Missing) => "missing",
            (Lang::En, Status::Invalid) => "present, check failed",
        }
    }

    /// Whether the dossier can be filed with this item as it is.
    pub fn complete(self) -> bool {
        matches!(self, Status::Checked | Status::Present)
    }
}

/// A note in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub fr: String,
    pub en: String,
}

impl Note {
    pub fn new(fr: impl Into<String>, en: impl Into<String>) -> Self {
        Note { fr: fr.into(), en: en.into() }
    }

    pub fn get(&self, lang: Lang) -> &str {
        if lang == Lang::En { &self.en } else { &self.fr }
    }
}

#[derive(Debug, Clone)]
pub struct Item {
    pub id: ItemId,
    pub status: Status,
    /// What was declared (a path, a URL, a number), as written.
    pub value: Option<String>,
    pub note: Note,
}

impl Item {
    pub fn new(id: ItemId, status: Status, value: Option<String>, note: Note) -> Self {
        Item { id, status, value, note }
    }
}

#[derive(Debug, Clone)]
pub struct Checklist {
    pub items: Vec<Item>,
}

impl Checklist {
    pub fn complete(&self) -> bool {
        self.items.iter().all(|i| i.status.complete())
    }

    pub fn item(&self, id: ItemId) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }
}
