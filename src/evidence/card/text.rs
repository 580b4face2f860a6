//! Text of the cards painted with a glyph cache: each glyph is rasterised once per face, size
//! and quarter-pixel offset, then blended wherever it appears. A card is mostly transcript
//! lines in one monospace size, so nearly every glyph is a cache hit; drawing the same text as
//! SVG paths cost about two thirds of a card's time (measured: 38 ms a card, ~22 of them text).
//!
//! Glyph outlines come from the fonts shipped in the binary (the ones [`super::font`] measures
//! with), so wrapping and drawing agree. No kerning, as in the measures.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use resvg::tiny_skia::{FillRule, Mask, PathBuilder, Pixmap, Transform};
use skrifa::instance::{LocationRef, Size};
use skrifa::outline::{DrawSettings, OutlinePen};
use skrifa::{FontRef, GlyphId, MetadataProvider};

use super::font::Face;

/// A run of text as the layout placed it: `x` is its start, or its end when `end_anchor`.
#[derive(Debug, Clone, PartialEq)]
pub struct TextRun {
    pub x: f32,
    /// Baseline.
    pub y: f32,
    pub face: Face,
    pub size: f32,
    /// `#rrggbb`.
    pub fill: String,
    pub end_anchor: bool,
    pub text: String,
}

/// Sub-pixel positions kept apart in the cache, per axis.
const STEPS: f32 = 4.0;
/// Past this many cached glyphs the cache is emptied (a bound for hostile text; a card uses
/// a few hundred).
const CACHE_LIMIT: usize = 20_000;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    face: u8,
    size_centi: u32,
    glyph: u32,
    sub_x: u8,
    sub_y: u8,
}

/// A glyph's coverage, placed relative to the pen's whole-pixel position.
struct Glyph {
    left: i32,
    top: i32,
    mask: Option<Mask>,
}

thread_local! {
    // One cache per rendering thread: no locking, and a thread renders many cards.
    static CACHE: RefCell<HashMap<Key, Rc<Glyph>>> = RefCell::new(HashMap::new());
}

/// Paints `runs` over `pixmap` (opaque: colours are blended as is).
pub fn paint(pixmap: &mut Pixmap, runs: &[TextRun]) {
    for run in runs {
        paint_run(pixmap, run);
    }
}

fn paint_run(pixmap: &mut Pixmap, run: &TextRun) {
    let Ok(font) = FontRef::new(run.face.data()) else {
        return;
    };
    let colour = parse_colour(&run.fill);
    let charmap = font.charmap();
    let metrics = font.glyph_metrics(Size::new(run.size), LocationRef::default());
    let glyphs: Vec<GlyphId> = run.text.chars().map(|c| charmap.map(c).unwrap_or_default()).collect();
    let advance = |g: GlyphId| metrics.advance_width(g).unwrap_or(0.0);
    let mut x = if run.end_anchor { run.x - glyphs.iter().copied().map(advance).sum::<f32>() } else { run.x };
    for gid in glyphs {
        let glyph = cached(&font, run.face, run.size, gid, x, run.y);
        if let Some(mask) = &glyph.mask {
            blend(pixmap, mask, x.floor() as i64 + i64::from(glyph.left), run.y.floor() as i64 + i64::from(glyph.top), colour);
        }
        x += advance(gid);
    }
}

fn quarter(v: f32) -> u8 {
    (((v - v.floor()) * STEPS).round() as u8).min(STEPS as u8 - 1)
}

fn cached(font: &FontRef<'_>, face: Face, size: f32, gid: GlyphId, x: f32, y: f32) -> Rc<Glyph> {
    let key = Key { face: face as u8, size_centi: (size * 100.0) as u32, glyph: gid.to_u32(), sub_x: quarter(x), sub_y: quarter(y) };
    CACHE.with(|cache| {
        if let Some(g) = cache.borrow().get(&key) {
            return g.clone();
        }
        let glyph = Rc::new(rasterise(font, size, gid, f32::from(key.sub_x) / STEPS, f32::from(key.sub_y) / STEPS));
        let mut cache = cache.borrow_mut();
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key, glyph.clone());
        glyph
    })
}

/// The glyph's coverage mask for a pen at (`dx`, `dy`) inside its pixel.
fn rasterise(font: &FontRef<'_>, size: f32, gid: GlyphId, dx: f32, dy: f32) -> Glyph {
    let empty = Glyph { left: 0, top: 0, mask: None };
    let Some(outline) = font.outline_glyphs().get(gid) else {
        return empty;
    };
    let mut pen = Pen { path: PathBuilder::new(), dx, dy };
    if outline.draw(DrawSettings::unhinted(Size::new(size), LocationRef::default()), &mut pen).is_err() {
        return empty;
    }
    let Some(path) = pen.path.finish() else {
        return empty;
    };
    let b = path.bounds();
    let (left, top) = (b.left().floor() as i32 - 1, b.top().floor() as i32 - 1);
    let (w, h) = ((b.right().ceil() as i32 + 1 - left) as u32, (b.bottom().ceil() as i32 + 1 - top) as u32);
    let Some(mut mask) = Mask::new(w, h) else {
        return empty;
    };
    mask.fill_path(&path, FillRule::Winding, true, Transform::from_translate(-left as f32, -top as f32));
    Glyph { left, top, mask: Some(mask) }
}

/// Outline commands into a path, y pointing down, offset by the pen's sub-pixel position.
struct Pen {
    path: PathBuilder,
    dx: f32,
    dy: f32,
}

impl OutlinePen for Pen {
    fn move_to(&mut self, x: f32, y: f32) {
        self.path.move_to(x + self.dx, self.dy - y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.path.line_to(x + self.dx, self.dy - y);
    }
    fn quad_to(&mut self, cx0: f32, cy0: f32, x: f32, y: f32) {
        self.path.quad_to(cx0 + self.dx, self.dy - cy0, x + self.dx, self.dy - y);
    }
    fn curve_to(&mut self, cx0: f32, cy0: f32, cx1: f32, cy1: f32, x: f32, y: f32) {
        self.path.cubic_to(cx0 + self.dx, self.dy - cy0, cx1 + self.dx, self.dy - cy1, x + self.dx, self.dy - y);
    }
    fn close(&mut self) {
        self.path.close();
    }
}

/// Blends `colour` through `mask` placed at (`left`, `top`), clipped to the pixmap.
fn blend(pixmap: &mut Pixmap, mask: &Mask, left: i64, top: i64, colour: [u8; 3]) {
    let (pw, ph) = (i64::from(pixmap.width()), i64::from(pixmap.height()));
    let (mw, mh) = (i64::from(mask.width()), i64::from(mask.height()));
    let data = pixmap.data_mut();
    for my in 0..mh {
        let py = top + my;
        if !(0..ph).contains(&py) {
            continue;
        }
        for mx in 0..mw {
            let px = left + mx;
            let a = u32::from(mask.data()[(my * mw + mx) as usize]);
            if a == 0 || !(0..pw).contains(&px) {
                continue;
            }
            let at = ((py * pw + px) * 4) as usize;
            for (c, &value) in colour.iter().enumerate() {
                let dst = u32::from(data[at + c]);
                data[at + c] = ((u32::from(value) * a + dst * (255 - a) + 127) / 255) as u8;
            }
            data[at + 3] = 255;
        }
    }
}

/// `#rrggbb` → RGB; anything else is the card's text colour (black).
fn parse_colour(fill: &str) -> [u8; 3] {
    let hex = fill.strip_prefix('#').filter(|h| h.len() == 6 && h.is_ascii());
    let byte = |i: usize| hex.and_then(|h| u8::from_str_radix(&h[i..i + 2], 16).ok());
    match (byte(0), byte(2), byte(4)) {
        (Some(r), Some(g), Some(b)) => [r, g, b],
        _ => [0, 0, 0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn white(w: u32, h: u32) -> Pixmap {
        let mut p = Pixmap::new(w, h).unwrap();
        p.fill(resvg::tiny_skia::Color::WHITE);
        p
    }

    fn run(text: &str, x: f32, end_anchor: bool) -> TextRun {
        TextRun { x, y: 30.0, face: Face::Mono, size: 20.0, fill: "#cf222e".into(), end_anchor, text: text.into() }
    }

    fn inked_columns(p: &Pixmap) -> Vec<u32> {
        (0..p.width()).filter(|&x| (0..p.height()).any(|y| p.pixel(x, y).unwrap().green() < 200)).collect()
    }

    #[test]
    fn text_is_drawn_in_its_colour_where_the_layout_put_it() {
        let mut p = white(200, 40);
        paint(&mut p, &[run("Hg", 10.0, false)]);
        let cols = inked_columns(&p);
        assert!(cols.first().is_some_and(|&c| (10..=13).contains(&c)), "{cols:?}");
        let advance = super::super::font::text_width("Hg", Face::Mono, 20.0);
        assert!(cols.last().is_some_and(|&c| (c as f32) <= 10.0 + advance + 1.0), "{cols:?}");
        // The darkest pixel is the fill colour (red), fully covered somewhere in a stem.
        let reddest = (0..200).flat_map(|x| (0..40).map(move |y| (x, y))).map(|(x, y)| p.pixel(x, y).unwrap()).min_by_key(|px| px.green()).unwrap();
        assert_eq!((reddest.red(), reddest.green(), reddest.blue()), (0xcf, 0x22, 0x2e));
    }

    #[test]
    fn end_anchored_text_ends_at_x() {
        let mut p = white(200, 40);
        paint(&mut p, &[run("abc", 190.0, true)]);
        let cols = inked_columns(&p);
        assert!(cols.last().is_some_and(|&c| (185..=191).contains(&c)), "{cols:?}");
    }

    #[test]
    fn the_same_text_at_the_same_place_gives_the_same_pixels_cached_or_not() {
        let mut a = white(300, 40);
        paint(&mut a, &[run("abc abc", 3.3, false)]);
        CACHE.with(|c| c.borrow_mut().clear());
        let mut b = white(300, 40);
        paint(&mut b, &[run("abc abc", 3.3, false)]);
        assert_eq!(a.data(), b.data());
    }

    #[test]
    fn text_off_the_image_and_unknown_glyphs_do_not_panic() {
        let mut p = white(20, 20);
        paint(&mut p, &[run("far away", -500.0, false), run("\u{10FFFF}中", 5.0, false), run("x", 1e9, true)]);
        assert_eq!(parse_colour("nonsense"), [0, 0, 0]);
        assert_eq!(parse_colour("#ffffff"), [255, 255, 255]);
    }
}
