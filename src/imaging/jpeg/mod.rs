//! A baseline JPEG encoder for the visualisations: YCbCr 4:2:0 with the
//! chroma averaged over 2×2 pixels, libjpeg's quality scaling of the
//! standard quantisation tables and the standard Huffman tables (Pillow's
//! defaults), a floating-point DCT, and a restart marker after every row of
//! MCUs (16 pixel lines).
//!
//! The restart markers make every MCU row an independent piece of the coded
//! data: the rows can be encoded in any order and pieces put side by side.
//! Saving uses that to encode a photo's rows below the label as soon as the
//! photo is decoded, and only the top rows once the label is known (see
//! `crate::visualize::Visual`). It also takes 4.2 ms for a 1.5 MP photo where
//! the `jpeg-encoder` crate used before took 7.3 ms (see BENCHMARKS.md).

mod dct;
mod huffman;

use self::dct::{Block, Divisors, Kernel, Portable};
use self::huffman::{BitWriter, Codes, ComponentCodes, SPECS};

/// Pixel lines per MCU row (4:2:0).
pub(crate) const MCU_LINES: u32 = 16;

/// Why an image cannot be encoded.
#[derive(Debug, thiserror::Error)]
pub enum JpegError {
    /// JPEG stores sizes in 16 bits.
    #[error("{0}×{1} is too large for JPEG (at most 65535×65535)")]
    TooLarge(u32, u32),
    /// Nothing to encode.
    #[error("an empty image cannot be saved as JPEG")]
    Empty,
    /// The pixel buffer does not hold width × height RGB pixels.
    #[error("the pixel buffer holds {got} bytes, not the {expected} of the image")]
    WrongLength {
        /// width × height × 3.
        expected: usize,
        /// The buffer's length.
        got: usize,
    },
}

/// Everything fixed for one image: its size, tables and headers.
pub(crate) struct JpegLayout {
    width: usize,
    height: usize,
    mcu_cols: usize,
    tables: [[u16; 64]; 2],
    divisors: [Divisors; 2],
    codes: [Codes; 4],
}

impl JpegLayout {
    /// The layout of a `width`×`height` RGB image at `quality` (1–100, as
    /// Pillow and libjpeg scale it).
    pub(crate) fn new(width: u32, height: u32, quality: u8) -> Result<Self, JpegError> {
        if width == 0 || height == 0 {
            return Err(JpegError::Empty);
        }
        if width > 65535 || height > 65535 {
            return Err(JpegError::TooLarge(width, height));
        }
        let tables = [
            scaled_table(&LUMA_QUANT, quality),
            scaled_table(&CHROMA_QUANT, quality),
        ];
        Ok(JpegLayout {
            width: width as usize,
            height: height as usize,
            mcu_cols: (width as usize).div_ceil(16),
            divisors: [Divisors::new(&tables[0]), Divisors::new(&tables[1])],
            tables,
            codes: SPECS.each_ref().map(Codes::new),
        })
    }

    /// Everything before the coded data: SOI, JFIF, tables, frame, restart
    /// interval and scan headers.
    pub(crate) fn header(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0xFF, 0xD8]);
        segment(
            out,
            0xE0,
            &[b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0],
        );
        let mut dqt = Vec::with_capacity(130);
        for (id, table) in self.tables.iter().enumerate() {
            dqt.push(id as u8);
            dqt.extend(dct::ZIGZAG.iter().map(|&p| table[usize::from(p)] as u8));
        }
        segment(out, 0xDB, &dqt);
        let (w, h) = (self.width as u16, self.height as u16);
        let mut sof = vec![8];
        sof.extend_from_slice(&h.to_be_bytes());
        sof.extend_from_slice(&w.to_be_bytes());
        sof.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        segment(out, 0xC0, &sof);
        let mut dht = Vec::new();
        for spec in &SPECS {
            dht.push(spec.class_id);
            dht.extend_from_slice(spec.bits);
            dht.extend_from_slice(spec.values);
        }
        segment(out, 0xC4, &dht);
        segment(out, 0xDD, &(self.mcu_cols as u16).to_be_bytes());
        segment(out, 0xDA, &[3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
    }

    /// Encodes the MCU rows covered by `lines`: whole RGB pixel lines that
    /// start at line `first_line` (a multiple of [`MCU_LINES`]). A last,
    /// partial MCU row is completed by repeating the last line, which is
    /// right only at the bottom of the image. Lines past the image's height
    /// are ignored.
    pub(crate) fn encode_rows(&self, lines: &[u8], first_line: u32, out: &mut Vec<u8>) {
        #[cfg(target_arch = "x86_64")]
        if let Some(avx2) = dct::avx2::Avx2::detect() {
            // SAFETY: `avx2` exists only when the CPU supports AVX2.
            unsafe { self.encode_rows_avx2(avx2, lines, first_line, out) };
            return;
        }
        self.encode_rows_with(Portable, lines, first_line, out);
    }

    /// The same code, compiled for 256-bit vectors.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn encode_rows_avx2(
        &self,
        kernel: dct::avx2::Avx2,
        lines: &[u8],
        first_line: u32,
        out: &mut Vec<u8>,
    ) {
        self.encode_rows_with(kernel, lines, first_line, out);
    }

    #[inline(always)]
    fn encode_rows_with<K: Kernel>(
        &self,
        kernel: K,
        lines: &[u8],
        first_line: u32,
        out: &mut Vec<u8>,
    ) {
        debug_assert_eq!(first_line % MCU_LINES, 0);
        let stride = self.width * 3;
        let remaining = self.height.saturating_sub(first_line as usize);
        let whole = (lines.len() / stride).min(remaining);
        let lines = &lines[..whole * stride];
        if lines.is_empty() {
            return;
        }
        let mut strip = Strip::new(self.mcu_cols);
        let first_row = (first_line / MCU_LINES) as usize;
        for (i, row_lines) in lines.chunks(stride * MCU_LINES as usize).enumerate() {
            let row = first_row + i;
            strip.fill(row_lines, self.width);
            let mut writer = BitWriter::new(out);
            if row > 0 {
                writer.restart_marker(((row - 1) % 8) as u8);
            }
            self.encode_strip(kernel, &strip, &mut writer);
            writer.flush();
        }
    }

    /// Codes one MCU row: four luma blocks, then one block of each chroma component per MCU.
    #[inline(always)]
    fn encode_strip<K: Kernel>(&self, kernel: K, strip: &Strip, writer: &mut BitWriter<'_>) {
        let luma = ComponentCodes {
            dc: &self.codes[0],
            ac: &self.codes[1],
        };
        let chroma = ComponentCodes {
            dc: &self.codes[2],
            ac: &self.codes[3],
        };
        let mut prev = [0i16; 3];
        let mut zz = [0i16; 64];
        for col in 0..self.mcu_cols {
            for (bx, by) in [(0, 0), (8, 0), (0, 8), (8, 8)] {
                let mut block = strip.luma_block(col * 16 + bx, by);
                let nonzero = kernel.transform(&mut block, &self.divisors[0], &mut zz);
                prev[0] = writer.block(&zz, nonzero, prev[0], &luma);
            }
            for (c, plane) in [&strip.cb, &strip.cr].into_iter().enumerate() {
                let mut block = strip.chroma_block(plane, col * 8);
                let nonzero = kernel.transform(&mut block, &self.divisors[1], &mut zz);
                prev[c + 1] = writer.block(&zz, nonzero, prev[c + 1], &chroma);
            }
        }
    }
}

/// Ends the coded data.
pub(crate) fn trailer(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0xFF, 0xD9]);
}

/// Encodes a whole `width`×`height` RGB image.
pub fn encode(rgb: &[u8], width: u32, height: u32, quality: u8) -> Result<Vec<u8>, JpegError> {
    let layout = JpegLayout::new(width, height, quality)?;
    let expected = layout.width * layout.height * 3;
    if rgb.len() != expected {
        return Err(JpegError::WrongLength {
            expected,
            got: rgb.len(),
        });
    }
    // Photos at quality 75 take about a tenth of their raw size.
    let mut out = Vec::with_capacity(rgb.len() / 8 + 1024);
    layout.header(&mut out);
    layout.encode_rows(rgb, 0, &mut out);
    trailer(&mut out);
    Ok(out)
}

/// One MCU row as level-shifted planes: full-size luma, 2×2-averaged chroma.
struct Strip {
    /// Luma plane width (a multiple of 16).
    width: usize,
    y: Vec<f32>,
    cb: Vec<f32>,
    cr: Vec<f32>,
}

impl Strip {
    fn new(mcu_cols: usize) -> Self {
        let width = mcu_cols * 16;
        Strip {
            width,
            y: vec![0.0; width * 16],
            cb: vec![0.0; width / 2 * 8],
            cr: vec![0.0; width / 2 * 8],
        }
    }

    /// Converts up to 16 lines of `width` RGB pixels; missing lines and
    /// columns repeat the last ones.
    #[inline(always)]
    fn fill(&mut self, lines: &[u8], width: usize) {
        let stride = width * 3;
        let available = lines.len() / stride;
        let line = |i: usize| {
            let i = i.min(available - 1);
            &lines[i * stride..(i + 1) * stride]
        };
        let half = self.width / 2;
        for pair in 0..8 {
            let (top, bottom) = (line(2 * pair), line(2 * pair + 1));
            for (k, src) in [top, bottom].into_iter().enumerate() {
                let dst = &mut self.y[(2 * pair + k) * self.width..][..self.width];
                luma_line(src, &mut dst[..width]);
                let last = dst[width - 1];
                dst[width..].fill(last);
            }
            let cb = &mut self.cb[pair * half..][..half];
            let cr = &mut self.cr[pair * half..][..half];
            chroma_line(top, bottom, width, cb, cr);
        }
    }

    #[inline(always)]
    fn luma_block(&self, x: usize, y: usize) -> Block {
        std::array::from_fn(|r| {
            let start = (y + r) * self.width + x;
            let mut row = [0.0; 8];
            row.copy_from_slice(&self.y[start..start + 8]);
            row
        })
    }

    #[inline(always)]
    fn chroma_block(&self, plane: &[f32], x: usize) -> Block {
        let half = self.width / 2;
        std::array::from_fn(|r| {
            let start = r * half + x;
            let mut row = [0.0; 8];
            row.copy_from_slice(&plane[start..start + 8]);
            row
        })
    }
}

/// Luma of one line, minus 128 (JFIF's BT.601 weights).
#[inline(always)]
fn luma_line(src: &[u8], dst: &mut [f32]) {
    for (d, px) in dst.iter_mut().zip(src.chunks_exact(3)) {
        let (r, g, b) = (f32::from(px[0]), f32::from(px[1]), f32::from(px[2]));
        *d = 0.299 * r + 0.587 * g + 0.114 * b - 128.0;
    }
}

/// Cb and Cr of the 2×2 averages of two lines (centred on zero); a last odd
/// column and the padding repeat the last pixels.
#[inline(always)]
fn chroma_line(top: &[u8], bottom: &[u8], width: usize, cb: &mut [f32], cr: &mut [f32]) {
    let pairs = width / 2;
    let sums = top[..pairs * 6]
        .chunks_exact(6)
        .zip(bottom[..pairs * 6].chunks_exact(6));
    for ((b_out, r_out), (t, u)) in cb.iter_mut().zip(cr.iter_mut()).zip(sums) {
        let r = f32::from(t[0]) + f32::from(t[3]) + f32::from(u[0]) + f32::from(u[3]);
        let g = f32::from(t[1]) + f32::from(t[4]) + f32::from(u[1]) + f32::from(u[4]);
        let b = f32::from(t[2]) + f32::from(t[5]) + f32::from(u[2]) + f32::from(u[5]);
        (*b_out, *r_out) = chroma(r * 0.25, g * 0.25, b * 0.25);
    }
    let mut filled = pairs;
    if width % 2 == 1 {
        let (t, u) = (&top[pairs * 6..], &bottom[pairs * 6..]);
        let avg = |c: usize| (f32::from(t[c]) + f32::from(u[c])) * 0.5;
        (cb[pairs], cr[pairs]) = chroma(avg(0), avg(1), avg(2));
        filled += 1;
    }
    let (last_b, last_r) = (cb[filled - 1], cr[filled - 1]);
    cb[filled..].fill(last_b);
    cr[filled..].fill(last_r);
}

#[inline(always)]
fn chroma(r: f32, g: f32, b: f32) -> (f32, f32) {
    (
        -0.168_736 * r - 0.331_264 * g + 0.5 * b,
        0.5 * r - 0.418_688 * g - 0.081_312 * b,
    )
}

/// Writes a marker segment with its length.
fn segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
}

/// The specification's example tables (Annex K.1), row-major.
const LUMA_QUANT: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA_QUANT: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// libjpeg's `jpeg_quality_scaling` with baseline limits (1–255).
fn scaled_table(base: &[u16; 64], quality: u8) -> [u16; 64] {
    let quality = u32::from(quality.clamp(1, 100));
    let factor = if quality < 50 {
        5000 / quality
    } else {
        200 - 2 * quality
    };
    base.map(|q| ((u32::from(q) * factor + 50) / 100).clamp(1, 255) as u16)
}

#[cfg(test)]
mod tests;
