//! The label font: DejaVu Sans embedded in the binary (PaddleX's PingFang
//! cannot be shipped), `PADDLE_PDX_LOCAL_FONT_FILE_PATH` when set, and a
//! system CJK font as a per-character fallback for labels DejaVu lacks.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ab_glyph::{Font, FontVec, GlyphId};

static DEJAVU_SANS: &[u8] = include_bytes!("DejaVuSans.ttf");

/// Well-known places of fonts with CJK coverage on Linux and macOS.
const CJK_FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
];

/// The primary font plus an optional fallback for missing characters.
pub(crate) struct FontSet {
    /// Used for every character it has.
    pub primary: FontVec,
    /// Used for characters the primary lacks, when one was found.
    pub fallback: Option<FontVec>,
    /// See [`FontSet::ink_extent_em`].
    extent_em: f64,
}

impl FontSet {
    /// A set and its ink extent.
    pub(crate) fn new(primary: FontVec, fallback: Option<FontVec>) -> Self {
        let extent_em = ink_extent_em(&primary, fallback.as_ref());
        FontSet {
            primary,
            fallback,
            extent_em,
        }
    }

    /// How far, in ems of the text's size, the ink of any glyph of the set
    /// can reach from the text's top line (the primary font's ascender,
    /// where drawing anchors it) downwards, and from its highest to its
    /// lowest point: from the fonts' global bounding boxes (`head` table).
    pub(crate) fn ink_extent_em(&self) -> f64 {
        self.extent_em
    }

    /// The font (and glyph) that draws `c`.
    pub(crate) fn glyph_for(&self, c: char) -> (&FontVec, GlyphId) {
        let id = self.primary.glyph_id(c);
        if id.0 != 0 {
            return (&self.primary, id);
        }
        match &self.fallback {
            Some(f) if f.glyph_id(c).0 != 0 => (f, f.glyph_id(c)),
            _ => (&self.primary, id),
        }
    }
}

/// The process-wide font set, loaded on first use.
pub(crate) fn fonts() -> &'static FontSet {
    static FONTS: OnceLock<FontSet> = OnceLock::new();
    FONTS.get_or_init(load_fonts)
}

fn load_fonts() -> FontSet {
    let primary = local_font_override().unwrap_or_else(embedded);
    let fallback = CJK_FONT_CANDIDATES
        .iter()
        .map(Path::new)
        .find_map(load_file);
    FontSet::new(primary, fallback)
}

/// See [`FontSet::ink_extent_em`]. A font whose tables cannot be read
/// counts as reaching two ems.
fn ink_extent_em(primary: &FontVec, fallback: Option<&FontVec>) -> f64 {
    use ab_glyph::Font;
    let ascent = f64::from(primary.ascent_unscaled() / primary.units_per_em().unwrap_or(1000.0));
    let (mut top, mut bottom) = (ascent, 0.0f64);
    for font in std::iter::once(primary).chain(fallback) {
        match ttf_parser::Face::parse(font.as_slice(), 0) {
            Ok(face) => {
                let em = f64::from(face.units_per_em().max(1));
                let bbox = face.global_bounding_box();
                top = top.max(f64::from(bbox.y_max) / em);
                bottom = bottom.max(-f64::from(bbox.y_min) / em);
            }
            Err(_) => bottom = bottom.max(2.0),
        }
    }
    top + bottom
}

/// `PADDLE_PDX_LOCAL_FONT_FILE_PATH`, if it names a readable font (PaddleX
/// ignores the variable when the file does not exist; we do the same, with a warning).
fn local_font_override() -> Option<FontVec> {
    let path = PathBuf::from(std::env::var_os("PADDLE_PDX_LOCAL_FONT_FILE_PATH")?);
    match load_file(&path) {
        Some(font) => {
            crate::log::warn(&format!(
                "Using the local font file(`{}`) specified by `LOCAL_FONT_FILE_PATH`!",
                path.display()
            ));
            Some(font)
        }
        None => {
            crate::log::warn(&format!(
                "PADDLE_PDX_LOCAL_FONT_FILE_PATH={} is not a readable font; using the built-in font",
                path.display()
            ));
            None
        }
    }
}

fn load_file(path: &Path) -> Option<FontVec> {
    let bytes = std::fs::read(path).ok()?;
    FontVec::try_from_vec_and_index(bytes, 0).ok()
}

fn embedded() -> FontVec {
    // The embedded file is a valid TrueType font; the test below checks it.
    FontVec::try_from_vec(DEJAVU_SANS.to_vec()).unwrap_or_else(|_| unreachable_font())
}

#[cold]
fn unreachable_font() -> FontVec {
    panic!("the embedded DejaVu Sans font failed to parse")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ink_extent_covers_the_embedded_font() {
        // DejaVu Sans: 1.7 em from its highest glyph's top to its lowest
        // glyph's bottom (its ascent-to-descent height is 1.16 em).
        let set = FontSet::new(embedded(), None);
        let extent = set.ink_extent_em();
        assert!((1.5..1.8).contains(&extent), "{extent}");
    }

    #[test]
    fn embedded_font_parses_and_covers_latin() {
        let font = embedded();
        assert_ne!(font.glyph_id('a').0, 0);
        assert_ne!(font.glyph_id('0').0, 0);
    }
}
