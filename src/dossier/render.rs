//! The checklist as JSON (`dossier-checklist.json`) and HTML (`dossier-checklist.html`), in the
//! run language (French by default).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::checklist::{Checklist, Status};
use crate::lang::Lang;
use crate::report::html::esc;

pub const JSON_FILE: &str = "dossier-checklist.json";
pub const HTML_FILE: &str = "dossier-checklist.html";

struct Words {
    title: &'static str,
    intro: &'static str,
    item: &'static str,
    status: &'static str,
    value: &'static str,
    note: &'static str,
    complete: &'static str,
    incomplete: &'static str,
    generated: &'static str,
}

const FR: Words = Words {
    title: "Dossier de solde : liste de contrôle",
    intro: "Ce que l'ANS demande à côté des preuves, élément par élément. L'outil vérifie ce qui peut l'être et n'envoie rien.",
    item: "Élément",
    status: "État",
    value: "Déclaré",
    note: "Constat",
    complete: "Dossier complet : chaque élément est présent.",
    incomplete: "Dossier incomplet : des éléments manquent ou leur vérification échoue.",
    generated: "Établi le",
};

const EN: Words = Words {
    title: "Solde dossier: checklist",
    intro: "What the agency asks for beside the proofs, item by item. The tool checks what it can and sends nothing.",
    item: "Item",
    status: "Status",
    value: "Declared",
    note: "Finding",
    complete: "Dossier complete: every item is present.",
    incomplete: "Dossier incomplete: items are missing or fail their check.",
    generated: "Generated on",
};

fn words(lang: Lang) -> &'static Words {
    if lang == Lang::En { &EN } else { &FR }
}

fn lang_code(lang: Lang) -> &'static str {
    if lang == Lang::En { "en" } else { "fr" }
}

pub fn to_json(list: &Checklist, lang: Lang, at: DateTime<Utc>) -> Value {
    let items: Vec<Value> = list
        .items
        .iter()
        .map(|i| {
            json!({
                "id": i.id,
                "label": i.id.label(lang),
                "status": i.status,
                "status_label": i.status.label(lang),
                "value": i.value,
                "note": i.note.get(lang),
            })
        })
        .collect();
    json!({
        "format": "mssconf-dossier-checklist/1",
        "lang": lang_code(lang),
        "title": words(lang).title,
        "generated": at,
        "complete": list.complete(),
        "items": items,
    })
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Checked => "pass",
        Status::Present => "skip",
        Status::Missing | Status::Invalid => "fail",
    }
}

pub fn to_html(list: &Checklist, lang: Lang, at: DateTime<Utc>) -> String {
    let w = words(lang);
    let mut rows = String::new();
    for i in &list.items {
        rows.push_str(&format!(
            "<tr><td>{}</td><td><span class=\"badge o-{}\">{}</span></td><td>{}</td><td>{}</td></tr>\n",
            esc(i.id.label(lang)),
            status_class(i.status),
            esc(i.status.label(lang)),
            esc(i.value.as_deref().unwrap_or("—")),
            esc(i.note.get(lang)),
        ));
    }
    let verdict = if list.complete() { w.complete } else { w.incomplete };
    let when = crate::util::paris::to_paris(at).format("%d/%m/%Y %H:%M");
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n<style>\n\
         body{{font-family:sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse;width:100%}}\
         td,th{{border:1px solid #ccc;padding:.4em;text-align:left;vertical-align:top}}\
         .badge{{padding:.1em .5em;border-radius:.3em;white-space:nowrap}}.o-pass{{background:#d4edda}}\
         .o-skip{{background:#e2e3e5}}.o-fail{{background:#f8d7da}}\n</style>\n</head>\n<body>\n\
         <h1>{t}</h1>\n<p>{}</p>\n<p><strong>{}</strong></p>\n<table>\n<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>\n{rows}</table>\n\
         <p>{} {when}</p>\n</body>\n</html>\n",
        lang_code(lang),
        esc(w.intro),
        esc(verdict),
        esc(w.item),
        esc(w.status),
        esc(w.value),
        esc(w.note),
        esc(w.generated),
        t = esc(w.title),
    )
}
