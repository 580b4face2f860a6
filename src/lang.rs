//! The language of what auditors read (HTML report, cards, audit screens): French by default,
//! English available. A foundation type: every stage may name it, it names none.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Fr,
    En,
}
