//! What a YAML file may cost: its size, and the parser's budget (alias bombs, deep nesting,
//! huge anchors).

/// Files larger than this are refused before parsing (a scenario is a few KB).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Options bounding what a YAML document may cost (alias bombs, deep nesting, huge anchors).
/// A scenario or profile is a few KB with no anchor: these limits are far above any real file
/// and far below what a hostile one of [`MAX_FILE_BYTES`] could make the parser allocate.
pub fn yaml_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(yaml_budget());
    options.alias_limits = yaml_alias_limits();
    // `!include x` would otherwise be read as the text "x": refuse tags, none is meaningful here.
    options.reject_unsupported_tags = true;
    // The snippet is not shown (we print our own position): do not build it.
    options.with_snippet = false;
    // Comments are never read into our types: do not collect their text (saves parse time on
    // large catalogues; comments are still checked as YAML syntax).
    options.emit_comments = false;
    options
}

/// Alias replay limits of [`yaml_options`] (also named in the error messages).
pub fn yaml_alias_limits() -> serde_saphyr::options::AliasLimits {
    let mut limits = serde_saphyr::options::AliasLimits::default();
    limits.max_total_replayed_events = 20_000;
    limits.max_replay_stack_depth = 16;
    limits.max_alias_expansions_per_anchor = 1_000;
    limits
}

/// Parser budget of [`yaml_options`] (also named in the error messages).
pub fn yaml_budget() -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_documents = 1;
    budget.max_depth = 32;
    budget.flow_nesting_limit = 32;
    budget.max_events = 200_000;
    budget.max_nodes = 100_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_merge_keys = 100;
    // Counts replayed scalars too: an anchor copied by aliases cannot grow past 4 × the file cap.
    budget.max_total_scalar_bytes = 4 * MAX_FILE_BYTES as usize;
    budget.max_recorded_anchor_bytes = 4 * MAX_FILE_BYTES as usize;
    budget.max_recorded_anchor_events = 20_000;
    budget
}
