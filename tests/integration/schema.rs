//! The committed JSON Schemas are what the Rust types generate.

use super::{mssconf, root, text};

#[test]
fn committed_schemas_are_current() {
    for (kind, file) in [("scenario", "scenarios/schema.json"), ("target", "scenarios/target.schema.json"), ("requirements", "scenarios/requirements.schema.json")] {
        let out = mssconf(&["schema", "--kind", kind]);
        assert!(out.status.success());
        let committed = std::fs::read_to_string(root().join(file)).expect("schema file");
        assert!(
            text(&out.stdout) == committed,
            "{file} is stale: run `cargo run -- schema --kind {kind} > {file}`"
        );
    }
}

#[test]
fn schema_describes_steps_and_rejects_unknown_fields() {
    let out = text(&mssconf(&["schema"]).stdout);
    let schema: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let step = &schema["$defs"]["Step"];
    for key in ["smtp", "imap", "tls", "http", "wait"] {
        assert!(step["properties"].get(key).is_some(), "Step lacks {key}");
    }
    assert_eq!(step["additionalProperties"], false);
}
