//! Attachment content generated from a size and a seed: fictitious by construction, as large as a
//! scenario needs, never stored. Any byte can be produced at any offset, so the content can be
//! streamed (and re-read for evidence) without keeping it.

/// Pseudo-random bytes: byte `i` is byte `i % 8` of `splitmix64(seed + i / 8)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub size: u64,
    pub seed: u64,
}

impl Generated {
    /// Fills `buf` with the content starting at `offset`.
    pub fn fill(&self, offset: u64, buf: &mut [u8]) {
        let mut pos = offset;
        let mut i = 0;
        while i < buf.len() {
            let word = splitmix64(self.seed.wrapping_add(pos / 8)).to_le_bytes();
            let start = (pos % 8) as usize;
            let n = (8 - start).min(buf.len() - i);
            buf[i..i + n].copy_from_slice(&word[start..start + n]);
            i += n;
            pos += n as u64;
        }
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_offset_gives_the_same_bytes() {
        let g = Generated { size: 1000, seed: 42 };
        let mut whole = vec![0; 1000];
        g.fill(0, &mut whole);
        for (offset, len) in [(0, 1), (3, 13), (7, 9), (8, 8), (513, 200)] {
            let mut part = vec![0; len];
            g.fill(offset as u64, &mut part);
            assert_eq!(part, whole[offset..offset + len], "offset {offset}");
        }
        let mut other = vec![0; 1000];
        Generated { size: 1000, seed: 43 }.fill(0, &mut other);
        assert_ne!(other, whole);
        assert!(whole.iter().filter(|&&b| b == whole[0]).count() < 50, "not varied");
    }
}
