//! `screenshot` proofs without a browser: the facts of a scenario laid out as an SVG "card" and
//! rasterised to PNG with resvg, using fonts shipped in the binary.
//!
//! A card is built from the run record only (never from the clock or the machine), so the same
//! record gives byte-identical PNGs.

pub mod font;
pub mod identity;
pub mod production;
pub mod scenario;
pub mod svg;
pub mod text;

use std::sync::OnceLock;

use resvg::{tiny_skia, usvg};

use crate::record::Outcome;

/// What a card shows, top to bottom.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// Left of the coloured band: `mssconf — Rendu de la preuve OPE/TLS.01.01.02`.
    pub heading: String,
    pub verdict: Outcome,
    /// Right of the band: `CONFORME`.
    pub verdict_word: String,
    /// A yellow band under the heading (not a production target, simulated target…).
    pub warning: Option<String>,
    pub title: String,
    pub subtitle: Option<String>,
    /// Label / value rows.
    pub facts: Vec<(String, String)>,
    pub checklist_title: String,
    pub checklist: Vec<CheckRow>,
    pub transcript_title: String,
    /// Transcript lines, already rendered and redacted.
    pub transcript: Vec<String>,
    pub footer: String,
}

impl Card {
    /// Applies `f` to every text of the card (to scrub secrets before rendering).
    pub fn map_text(&mut self, f: impl Fn(&str) -> String) {
        for t in [&mut self.heading, &mut self.verdict_word, &mut self.title, &mut self.checklist_title, &mut self.transcript_title, &mut self.footer] {
            *t = f(t);
        }
        for t in self.warning.iter_mut().chain(self.subtitle.iter_mut()) {
            *t = f(t);
        }
        for (k, v) in &mut self.facts {
            *k = f(k);
            *v = f(v);
        }
        for r in &mut self.checklist {
            r.label = f(&r.label);
            r.detail = f(&r.detail);
        }
        for t in &mut self.transcript {
            *t = f(t);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRow {
    pub status: RowStatus,
    pub label: String,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStatus {
    Ok,
    Failed,
    NotSeen,
}

impl From<Outcome> for RowStatus {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Pass | Outcome::Flaky => RowStatus::Ok,
            Outcome::Fail | Outcome::Error => RowStatus::Failed,
            Outcome::Skip | Outcome::Interrupted => RowStatus::NotSeen,
        }
    }
}

/// Parsing options with the shipped fonts loaded (once per process).
fn options() -> &'static usvg::Options<'static> {
    static OPTIONS: OnceLock<usvg::Options<'static>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut opt = usvg::Options::default();
        let db = opt.fontdb_mut();
        for data in [font::SANS, font::SANS_BOLD, font::MONO] {
            db.load_font_data(data.to_vec());
        }
        opt.font_family = font::SANS_FAMILY.into();
        opt
    })
}

/// Rasterises an SVG document to PNG bytes (1 SVG unit = 1 pixel).
pub fn rasterise(svg: &str) -> Result<Vec<u8>, String> {
    encode_opaque_png(&draw_svg(svg)?).map_err(|e| format!("PNG encoding: {e}"))
}

/// An SVG document drawn over white.
fn draw_svg(svg: &str) -> Result<tiny_skia::Pixmap, String> {
    let tree = usvg::Tree::from_str(svg, options()).map_err(|e| format!("SVG not accepted: {e}"))?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| format!("cannot allocate a {}x{} image", size.width(), size.height()))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    Ok(pixmap)
}

/// Encodes an opaque pixmap as an RGB PNG. The default encoder (RGBA, adaptive filter, deflate
/// level 6) was half of a card's cost; a card is flat colours and text, where the `Sub` filter
/// and deflate level 2 do nearly as well (measured on a 1400×938 card: 34 → 9 ms, 209 → 232 KB).
/// The pixmap was filled white first, so every pixel is opaque and its premultiplied colour is
/// its colour.
fn encode_opaque_png(pixmap: &tiny_skia::Pixmap) -> Result<Vec<u8>, png::EncodingError> {
    use std::io::Write as _;
    let mut out = Vec::with_capacity(pixmap.data().len() / 16);
    let mut encoder = png::Encoder::new(&mut out, pixmap.width(), pixmap.height());
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_deflate_compression(png::DeflateCompression::Level(2));
    encoder.set_filter(png::Filter::Sub);
    let mut writer = encoder.write_header()?;
    {
        // Row by row: no second copy of the image (4 MB for a card) is ever held.
        let mut stream = writer.stream_writer()?;
        let mut row = vec![0u8; pixmap.width() as usize * 3];
        for line in pixmap.data().chunks_exact(pixmap.width() as usize * 4) {
            for (rgb, rgba) in row.chunks_exact_mut(3).zip(line.chunks_exact(4)) {
                rgb.copy_from_slice(&rgba[..3]);
            }
            stream.write_all(&row)?;
        }
        stream.finish()?;
    }
    writer.finish()?;
    Ok(out)
}

/// The card as PNG bytes: its shapes drawn from SVG, its text painted over them.
pub fn render_png(card: &Card) -> Result<Vec<u8>, String> {
    let (shapes, texts) = svg::render_parts(card);
    let mut pixmap = draw_svg(&shapes)?;
    text::paint(&mut pixmap, &texts);
    encode_opaque_png(&pixmap).map_err(|e| format!("PNG encoding: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Card {
        Card {
            heading: "mssconf — Rendu de la preuve OPE/TLS.01.01.02".into(),
            verdict: Outcome::Pass,
            verdict_word: "CONFORME".into(),
            warning: Some("cible simulée".into()),
            title: "La soumission SMTP annonce STARTTLS <et> & ne propose AUTH qu'après TLS".into(),
            subtitle: Some("OPE/TLS.01.01".into()),
            facts: vec![("Exigences".into(), "OPE/TLS.01, OPE/TLS.06".into())],
            checklist_title: "Étapes".into(),
            checklist: vec![CheckRow { status: RowStatus::Ok, label: "1".into(), detail: "EHLO".into() }],
            transcript_title: "Extrait".into(),
            transcript: vec!["17:00:00.000 smtp#1 S: 220 ready".into(), "x".repeat(500)],
            footer: "mssconf 0.1.0".into(),
        }
    }

    #[test]
    fn renders_a_png_of_the_card_width_deterministically() {
        let card = sample();
        let png = render_png(&card).unwrap();
        let pixmap = tiny_skia::Pixmap::decode_png(&png).unwrap();
        assert_eq!(pixmap.width(), svg::WIDTH as u32);
        assert!(pixmap.height() > 300);
        assert_eq!(render_png(&card).unwrap(), png, "same card, same bytes");
        let mut other = card.clone();
        other.verdict = Outcome::Fail;
        assert_ne!(render_png(&other).unwrap(), png);
    }

    #[test]
    fn text_is_drawn() {
        // A card whose only text is in the band must have white pixels drawn over the colour.
        let png = render_png(&sample()).unwrap();
        let pixmap = tiny_skia::Pixmap::decode_png(&png).unwrap();
        let band_row: Vec<_> = (0..pixmap.width()).map(|x| pixmap.pixel(x, 40).unwrap()).collect();
        assert!(band_row.iter().any(|p| p.red() > 200 && p.green() > 200 && p.blue() > 200), "heading text drawn");
    }

    #[test]
    fn every_text_is_mapped() {
        let mut card = sample();
        card.map_text(|_| "x".into());
        let svg = svg::render_svg(&card);
        assert!(!svg.contains("OPE/TLS") && !svg.contains("ready") && !svg.contains("mssconf"), "{svg}");
    }

    #[test]
    fn bad_svg_is_an_error() {
        assert!(rasterise("<svg").is_err());
    }
}
