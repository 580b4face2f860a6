//! The fonts of the cards, shipped in the binary (DejaVu, see `assets/DejaVu-LICENSE.txt`) so a
//! card renders the same everywhere, with no system font lookup. Text is measured with the same
//! fonts to wrap lines before they reach the SVG (SVG 1.1 text does not wrap).

use std::sync::OnceLock;

use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

pub const SANS: &[u8] = include_bytes!("../../../assets/DejaVuSans.ttf");
pub const SANS_BOLD: &[u8] = include_bytes!("../../../assets/DejaVuSans-Bold.ttf");
pub const MONO: &[u8] = include_bytes!("../../../assets/DejaVuSansMono.ttf");

pub const SANS_FAMILY: &str = "DejaVu Sans";
pub const MONO_FAMILY: &str = "DejaVu Sans Mono";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Sans,
    Bold,
    Mono,
}

impl Face {
    pub fn data(self) -> &'static [u8] {
        match self {
            Face::Sans => SANS,
            Face::Bold => SANS_BOLD,
            Face::Mono => MONO,
        }
    }

    pub fn family(self) -> &'static str {
        match self {
            Face::Sans | Face::Bold => SANS_FAMILY,
            Face::Mono => MONO_FAMILY,
        }
    }

    pub fn weight(self) -> &'static str {
        match self {
            Face::Bold => "bold",
            Face::Sans | Face::Mono => "normal",
        }
    }
}

/// Advance widths at 1 px per em of the characters U+0000..U+0250 (Latin, Latin-1, Latin
/// Extended), measured once; other characters count as the widest Latin letter.
struct Widths {
    table: Vec<f32>,
    fallback: f32,
}

fn widths(face: Face) -> &'static Widths {
    static CELLS: [OnceLock<Widths>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let cell = match face {
        Face::Sans => &CELLS[0],
        Face::Bold => &CELLS[1],
        Face::Mono => &CELLS[2],
    };
    cell.get_or_init(|| measure_table(face.data()))
}

fn measure_table(data: &[u8]) -> Widths {
    let Ok(font) = FontRef::new(data) else {
        // The fonts are compiled in; a parse failure would be caught by the tests.
        return Widths { table: vec![], fallback: 1.0 };
    };
    let charmap = font.charmap();
    let metrics = font.glyph_metrics(Size::new(1.0), LocationRef::default());
    let table: Vec<f32> = (0u32..0x250)
        .map(|cp| {
            let gid = char::from_u32(cp).and_then(|c| charmap.map(c)).unwrap_or_default();
            metrics.advance_width(gid).unwrap_or(0.0)
        })
        .collect();
    let fallback = table.get(u32::from('W') as usize).copied().unwrap_or(1.0);
    Widths { table, fallback }
}

/// Width in pixels of `text` set in `face` at `size` px (kerning ignored: a slight overestimate).
pub fn text_width(text: &str, face: Face, size: f32) -> f32 {
    let w = widths(face);
    text.chars().map(|c| w.table.get(c as usize).copied().unwrap_or(w.fallback)).sum::<f32>() * size
}

/// Splits `text` into lines no wider than `max` px: at spaces when possible, inside a word
/// when the word alone is too wide. Never returns an empty list.
pub fn wrap(text: &str, face: Face, size: f32, max: f32) -> Vec<String> {
    let fits = |s: &str| text_width(s, face, size) <= max;
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let candidate = if current.is_empty() { word.to_string() } else { format!("{current} {word}") };
        if fits(&candidate) {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        // The word alone: cut it into pieces that fit.
        for c in word.chars() {
            current.push(c);
            if !fits(&current) && current.chars().count() > 1 {
                current.pop();
                lines.push(std::mem::take(&mut current));
                current.push(c);
            }
        }
    }
    lines.push(current);
    lines
}

/// Like [`wrap`], keeping at most `max_lines` lines; the last kept line ends with `…` when
/// text was left out.
pub fn wrap_limited(text: &str, face: Face, size: f32, max: f32, max_lines: usize) -> Vec<String> {
    let mut lines = wrap(text, face, size, max);
    if lines.len() > max_lines {
        lines.truncate(max_lines.max(1));
        if let Some(last) = lines.last_mut() {
            while !last.is_empty() && text_width(&format!("{last}…"), face, size) > max {
                last.pop();
            }
            last.push('…');
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fonts_parse_and_measure() {
        // DejaVu Sans Mono: every Latin glyph advances 1233/2048 em.
        let mono = text_width("abcdefghij", Face::Mono, 10.0);
        assert!((mono - 10.0 * 10.0 * 1233.0 / 2048.0).abs() < 0.01, "{mono}");
        assert!(text_width("MMMM", Face::Sans, 20.0) > text_width("iiii", Face::Sans, 20.0));
        assert!(text_width("abc", Face::Bold, 20.0) > text_width("abc", Face::Sans, 20.0));
        assert!(text_width("中", Face::Sans, 20.0) > 0.0);
    }

    #[test]
    fn wrapping_respects_the_width() {
        let text = "La soumission SMTP annonce STARTTLS et ne propose AUTH qu'après TLS, sur chaque point d'accès";
        let lines = wrap(text, Face::Sans, 20.0, 300.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| text_width(l, Face::Sans, 20.0) <= 300.0), "{lines:?}");
        assert_eq!(lines.join(" "), text);
        let long = "x".repeat(200);
        let cut = wrap(&long, Face::Mono, 10.0, 100.0);
        assert!(cut.iter().all(|l| text_width(l, Face::Mono, 10.0) <= 100.0));
        assert_eq!(cut.concat(), long);
        assert_eq!(wrap("", Face::Sans, 10.0, 100.0), vec![String::new()]);
    }

    #[test]
    fn limited_wrapping_marks_the_cut() {
        let lines = wrap_limited(&"word ".repeat(100), Face::Sans, 12.0, 200.0, 2);
        assert_eq!(lines.len(), 2);
        assert!(lines[1].ends_with('…'));
    }
}
