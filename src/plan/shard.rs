//! Splitting a selection across CI jobs (`--shard K/N`, `MSSCONF_SHARD=K/N`), like nextest's
//! partitions. The split is applied after filtering, over the scenario ids sorted, so every job
//! computes the same shards from the same catalogue and filters:
//!
//! - `K/N` (or `count:K/N`): the i-th id in sorted order (0-based) goes to shard `i mod N + 1`.
//!   Shards differ in size by at most one; adding a scenario may move others.
//! - `hash:K/N`: shard `sha256(id) mod N + 1`. A scenario stays in its shard when others are
//!   added or removed; shard sizes vary.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardKind {
    Count,
    Hash,
}

/// Shard `index` (1-based) of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub total: u32,
    pub kind: ShardKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad shard `{given}`: {why}; expected K/N with 1 <= K <= N (e.g. 2/4), optionally `hash:K/N`")]
pub struct BadShard {
    pub given: String,
    pub why: String,
}

impl FromStr for Shard {
    type Err = BadShard;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| BadShard { given: s.to_string(), why: why.to_string() };
        let (kind, rest) = match s.trim().split_once(':') {
            Some(("hash", r)) => (ShardKind::Hash, r),
            Some(("count", r)) => (ShardKind::Count, r),
            Some((other, _)) => return Err(bad(&format!("unknown kind `{other}`"))),
            None => (ShardKind::Count, s.trim()),
        };
        let (k, n) = rest.split_once('/').ok_or_else(|| bad("no `/`"))?;
        let index: u32 = k.trim().parse().map_err(|_| bad("K is not a number"))?;
        let total: u32 = n.trim().parse().map_err(|_| bad("N is not a number"))?;
        if total == 0 || index == 0 || index > total {
            return Err(bad("K must be between 1 and N"));
        }
        Ok(Shard { index, total, kind })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ShardKind::Count => write!(f, "{}/{}", self.index, self.total),
            ShardKind::Hash => write!(f, "hash:{}/{}", self.index, self.total),
        }
    }
}

impl Shard {
    /// The ids of `ids` that belong to this shard.
    pub fn members<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
        let sorted: BTreeSet<&str> = ids.into_iter().collect();
        sorted.into_iter().enumerate().filter(|(i, id)| self.slot(*i, id) == self.index).map(|(_, id)| id).collect()
    }

    /// Keeps the items of this shard, in their given order.
    pub fn keep<T>(&self, items: Vec<T>, id: impl Fn(&T) -> &str) -> Vec<T> {
        let ids: Vec<String> = items.iter().map(|t| id(t).to_string()).collect();
        let members: BTreeSet<String> = self.members(ids.iter().map(String::as_str)).into_iter().map(String::from).collect();
        items.into_iter().filter(|t| members.contains(id(t))).collect()
    }

    /// The 1-based shard of the `position`-th id in sorted order.
    fn slot(&self, position: usize, id: &str) -> u32 {
        match self.kind {
            ShardKind::Count => (position as u64 % self.total as u64) as u32 + 1,
            ShardKind::Hash => {
                let digest = Sha256::digest(id.as_bytes());
                let mut first = [0u8; 8];
                first.copy_from_slice(&digest[..8]);
                (u64::from_be_bytes(first) % self.total as u64) as u32 + 1
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("OPE/T.{:02}.{:02}", i % 7, i)).collect()
    }

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, total: 4, kind: ShardKind::Count }));
        assert_eq!("hash:1/3".parse::<Shard>().unwrap().to_string(), "hash:1/3");
        for bad in ["0/3", "4/3", "1/0", "x/2", "2", "mod:1/2", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert!("5/3".parse::<Shard>().unwrap_err().to_string().contains("expected K/N"));
    }

    #[test]
    fn shards_partition_the_selection_whatever_the_input_order() {
        for kind in ["", "hash:"] {
            for total in 1..=5u32 {
                let all = ids(23);
                let mut reversed = all.clone();
                reversed.reverse();
                let mut union = BTreeSet::new();
                let mut sizes = Vec::new();
                for k in 1..=total {
                    let shard: Shard = format!("{kind}{k}/{total}").parse().unwrap();
                    let a = shard.members(all.iter().map(String::as_str));
                    assert_eq!(a, shard.members(reversed.iter().map(String::as_str)), "order-independent");
                    sizes.push(a.len());
                    for id in a {
                        assert!(union.insert(id), "{id} in two shards");
                    }
                }
                assert_eq!(union.len(), all.len(), "union is the selection");
                if kind.is_empty() {
                    assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{sizes:?}");
                }
            }
        }
    }

    #[test]
    fn hash_shards_do_not_move_when_the_catalogue_grows() {
        let shard: Shard = "hash:2/3".parse().unwrap();
        let small = ids(10);
        let big = ids(30);
        let before = shard.members(small.iter().map(String::as_str));
        let after = shard.members(big.iter().map(String::as_str));
        assert!(before.is_subset(&after));
    }

    #[test]
    fn keep_preserves_the_given_order() {
        let shard: Shard = "1/2".parse().unwrap();
        let items = vec!["c", "a", "d", "b"];
        assert_eq!(shard.keep(items, |s| s), vec!["c", "a"]);
    }
}
