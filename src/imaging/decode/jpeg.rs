//! JPEG decoding with libjpeg-turbo's own code (vendored by `mozjpeg-sys`),
//! called the way `cv2.imread(path, IMREAD_COLOR)` calls it, so the pixels
//! are PaddleX's to the last bit.
//!
//! Every libjpeg setting stays at its default, as OpenCV leaves them: the
//! accurate integer IDCT (`JDCT_ISLOW`), fancy upsampling, block smoothing.
//! One- and three-component images are read as RGB (grey replicated by
//! libjpeg); four-component ones (CMYK, YCCK) as CMYK, then turned into RGB
//! with OpenCV's integer formula. A file that ends early is decoded to the
//! part that is there: libjpeg inserts an end marker and warns (as with
//! `cv2.imread`'s stdio source), and the warning is handed back, not an error.
//!
//! libjpeg reports fatal errors through `error_exit`, which must not return.
//! Ours unwinds (`resume_unwind`, so no panic message is printed) through
//! the C frames, which `mozjpeg-sys` builds with `-fexceptions` and declares
//! `C-unwind` (its `unwinding` feature), and [`decode`] catches it at the
//! boundary: one error for that input. This needs `panic = "unwind"`, the
//! default, in every profile.

use std::cell::RefCell;
use std::ffi::{c_int, c_uint, c_ulong, CStr};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use image::RgbImage;
use mozjpeg_sys::{
    boolean, jpeg_common_struct, jpeg_create_decompress, jpeg_decompress_struct,
    jpeg_destroy_decompress, jpeg_error_mgr, jpeg_finish_decompress, jpeg_mem_src,
    jpeg_read_header, jpeg_read_scanlines, jpeg_start_decompress, jpeg_std_error, JDIMENSION,
    JSAMPROW_MUT, J_COLOR_SPACE,
};

use super::scale::{self, MinSize, Scale};
use super::DecodeError;

/// A decoded JPEG and the first warning libjpeg gave, if any
/// (for example "Premature end of JPEG file").
pub(crate) struct Decoded {
    /// The pixels, before EXIF orientation.
    pub image: RgbImage,
    /// libjpeg's first warning, worded as libjpeg words it.
    pub warning: Option<String>,
    /// The DCT scale decoded at ([`Scale::FULL`] unless a reduction was asked for).
    pub scale: Scale,
}

/// Whether `bytes` start like a JPEG file (SOI then a marker), the test
/// OpenCV's and the `image` crate's format sniffing use.
pub fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xff, 0xd8, 0xff])
}

/// Whether libjpeg-turbo's SIMD code was compiled in and is used on this
/// CPU (the build found `nasm`). Without it the pixels are the same, only
/// slower.
pub fn simd_in_use() -> bool {
    extern "C" {
        /// libjpeg-turbo's dispatch test for the accurate IDCT: 1 when a SIMD
        /// version is compiled in and the CPU has the instructions for it.
        fn jsimd_can_idct_islow() -> c_int;
    }
    // SAFETY: a function of libjpeg-turbo's `jsimd.c` / `jsimd_none.c`
    // (whichever the build compiled) with no arguments; it only reads the
    // CPU's features, once.
    unsafe { jsimd_can_idct_islow() != 0 }
}

/// What `error_exit` unwinds with: libjpeg's message.
struct Failure(String);

thread_local! {
    /// libjpeg's first warning during the decode running on this thread.
    static WARNING: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Decodes a JPEG into `buf` (reused; resized to fit), exactly as
/// `cv2.imread` would, before EXIF orientation. On error the buffer is lost.
///
/// With `reduce`, the image is decoded at the largest DCT reduction that
/// leaves it, as stored, at least that large ([`scale::choose`]); the
/// pixels are then no longer `cv2.imread`'s.
pub(crate) fn decode(
    bytes: &[u8],
    buf: Vec<u8>,
    reduce: Option<MinSize>,
) -> Result<Decoded, DecodeError> {
    WARNING.with(|w| w.borrow_mut().take());
    // The decompressor is made, used and destroyed inside: its `Drop` runs
    // also while `error_exit` unwinds past it.
    let result = catch_unwind(AssertUnwindSafe(|| Session::new().run(bytes, buf, reduce)));
    let warning = WARNING.with(|w| w.borrow_mut().take());
    match result {
        Ok(Ok((image, scale))) => Ok(Decoded {
            image,
            warning,
            scale,
        }),
        Ok(Err(e)) => Err(e),
        Err(payload) => match payload.downcast::<Failure>() {
            Ok(failure) => Err(DecodeError::Corrupt(failure.0)),
            // Not ours (a bug in this module): let it go on as it was.
            Err(other) => resume_unwind(other),
        },
    }
}

/// A libjpeg decompressor and its error manager, boxed so that the pointer
/// libjpeg keeps to the error manager stays valid; destroyed on drop.
struct Session {
    state: Box<State>,
}

struct State {
    cinfo: jpeg_decompress_struct,
    err: jpeg_error_mgr,
}

impl Session {
    fn new() -> Self {
        // SAFETY: both are plain C structs for which all-zero bytes are a
        // valid "not yet initialised" value (null pointers, `None` callbacks,
        // zero numbers); libjpeg initialises them below.
        let mut state: Box<State> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: `jpeg_std_error` fills in the error manager; we then replace
        // the two callbacks that would exit the process or print. The error
        // manager lives in the same box as the decompressor, so the pointer
        // stays valid for the decompressor's whole life. `jpeg_create_decompress`
        // initialises a zeroed struct; it fails only through `error_exit`
        // (library version mismatch, out of memory), which unwinds to
        // [`decode`] before a `Session` exists, so nothing is destroyed twice.
        unsafe {
            jpeg_std_error(&mut state.err);
            state.err.error_exit = Some(error_exit);
            state.err.emit_message = Some(emit_message);
            state.cinfo.common.err = &mut state.err;
            jpeg_create_decompress(&mut state.cinfo);
        }
        Session { state }
    }

    /// Reads the header, checks the size, picks the scale, decodes every
    /// row into `buf`.
    fn run(
        &mut self,
        bytes: &[u8],
        mut buf: Vec<u8>,
        reduce: Option<MinSize>,
    ) -> Result<(RgbImage, Scale), DecodeError> {
        let cinfo = &mut self.state.cinfo;
        let len =
            c_ulong::try_from(bytes.len()).map_err(|_| DecodeError::Io("file too large".into()))?;
        // SAFETY: `bytes` outlives the decompressor's use of it (everything
        // happens inside this call; `jpeg_destroy_decompress` forgets the
        // source). `jpeg_read_header` with `require_image` = TRUE either
        // returns JPEG_HEADER_OK or fails through `error_exit`.
        unsafe {
            jpeg_mem_src(cinfo, bytes.as_ptr(), len);
            jpeg_read_header(cinfo, true as boolean);
        }
        let (width, height) = (cinfo.image_width, cinfo.image_height);
        super::check_dimensions(width, height)?;
        let cmyk = cinfo.num_components == 4;
        cinfo.out_color_space = if cmyk {
            J_COLOR_SPACE::JCS_CMYK
        } else {
            J_COLOR_SPACE::JCS_EXT_RGB
        };
        let scale = reduce.map_or(Scale::FULL, |need| scale::choose(width, height, need));
        if scale.is_reduced() {
            // Left at 1/1, the default, otherwise: the exact path sets nothing.
            cinfo.scale_num = 1;
            cinfo.scale_denom = c_uint::from(scale.denominator());
        }
        // SAFETY: header read, parameters set; fails only through `error_exit`.
        unsafe {
            jpeg_start_decompress(cinfo);
        }
        let (out_w, out_h) = scale.apply(width, height);
        if (cinfo.output_width, cinfo.output_height) != (out_w, out_h) {
            return Err(DecodeError::Corrupt(
                "libjpeg changed the image size".into(),
            ));
        }
        let (w, h) = (out_w as usize, out_h as usize);
        let stride = w * 3;
        // Shrinking keeps the old bytes: libjpeg writes every row (a file
        // that ends early gets its missing rows filled in), or fails.
        buf.truncate(stride * h);
        buf.resize(stride * h, 0);
        if cmyk {
            read_cmyk(cinfo, &mut buf, w)?;
        } else {
            let mut rows: Vec<JSAMPROW_MUT> = buf
                .chunks_exact_mut(stride)
                .map(|r| r.as_mut_ptr())
                .collect();
            while (cinfo.output_scanline as usize) < h {
                let done = cinfo.output_scanline as usize;
                let want = JDIMENSION::try_from(h - done).unwrap_or(JDIMENSION::MAX);
                // SAFETY: `rows[done..]` are pointers to distinct rows of
                // `stride` = output_width * 3 bytes in `buf`, which is not
                // touched otherwise until the loop ends; libjpeg writes at most
                // `want` of them, each `output_width * output_components` (3)
                // bytes long.
                let got = unsafe { jpeg_read_scanlines(cinfo, rows[done..].as_mut_ptr(), want) };
                if got == 0 {
                    return Err(DecodeError::Corrupt("libjpeg returned no rows".into()));
                }
            }
        }
        // SAFETY: all rows read; this checks the rest of the data (warnings
        // only, or `error_exit`).
        unsafe {
            jpeg_finish_decompress(cinfo);
        }
        let image = RgbImage::from_raw(out_w, out_h, buf).ok_or_else(|| {
            DecodeError::Corrupt("the decoder gave a buffer of the wrong size".into())
        })?;
        Ok((image, scale))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: the decompressor was created in `new`; destroying it is
        // allowed in any state, also after `error_exit` unwound out of libjpeg.
        unsafe { jpeg_destroy_decompress(&mut self.state.cinfo) }
    }
}

/// Reads CMYK rows (libjpeg converts YCCK to CMYK itself) and turns each
/// into RGB with OpenCV's `icvCvt_CMYK2BGR_8u_C4C3R`: `k - ((255 - c) * k >> 8)`.
fn read_cmyk(
    cinfo: &mut jpeg_decompress_struct,
    buf: &mut [u8],
    width: usize,
) -> Result<(), DecodeError> {
    let mut row = vec![0u8; width * 4];
    for out in buf.chunks_exact_mut(width * 3) {
        let mut ptr: JSAMPROW_MUT = row.as_mut_ptr();
        // SAFETY: one row pointer to `width * 4` bytes, the size of one CMYK
        // output row; libjpeg writes at most one row.
        let got = unsafe { jpeg_read_scanlines(cinfo, &mut ptr, 1) };
        if got != 1 {
            return Err(DecodeError::Corrupt("libjpeg returned no rows".into()));
        }
        for (rgb, cmyk) in out.chunks_exact_mut(3).zip(row.chunks_exact(4)) {
            let k = u32::from(cmyk[3]);
            for (o, &c) in rgb.iter_mut().zip(&cmyk[..3]) {
                // k - ((255 - c) * k >> 8) is within 0..=k.
                *o = (k - (((255 - u32::from(c)) * k) >> 8)) as u8;
            }
        }
    }
    Ok(())
}

/// libjpeg's message for the error or warning just raised.
fn message(cinfo: &mut jpeg_common_struct) -> String {
    let mut text = [0u8; 80]; // JMSG_LENGTH_MAX
                              // SAFETY: `err` is the error manager set up in `Session::new`.
    let format = unsafe { (*cinfo.err).format_message };
    let Some(format) = format else {
        return "libjpeg error".into();
    };
    // The C signature is `void (*)(j_common_ptr, char *buffer)`: libjpeg
    // writes into the buffer, which the binding declares as a shared array
    // reference; call it with a pointer to a buffer we own instead.
    type Format = unsafe extern "C-unwind" fn(&mut jpeg_common_struct, *mut u8);
    // SAFETY: same ABI and argument sizes (a reference and a pointer);
    // libjpeg writes at most JMSG_LENGTH_MAX (80) bytes, NUL included.
    unsafe {
        let format: Format = std::mem::transmute(format);
        format(cinfo, text.as_mut_ptr());
    }
    CStr::from_bytes_until_nul(&text)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "libjpeg error".into())
}

/// libjpeg's `error_exit`: must not return; unwinds to [`decode`].
unsafe extern "C-unwind" fn error_exit(cinfo: &mut jpeg_common_struct) {
    let text = message(cinfo);
    resume_unwind(Box::new(Failure(text)));
}

/// libjpeg's `emit_message`: keeps the first warning (level -1), as
/// libjpeg's own prints only the first; trace messages are dropped.
unsafe extern "C-unwind" fn emit_message(cinfo: &mut jpeg_common_struct, level: c_int) {
    if level >= 0 {
        return;
    }
    // SAFETY: `err` is the error manager set up in `Session::new`.
    let first = unsafe { (*cinfo.err).num_warnings == 0 };
    if first {
        let text = message(cinfo);
        WARNING.with(|w| *w.borrow_mut() = Some(text));
    }
    // SAFETY: as above.
    unsafe { (*cinfo.err).num_warnings += 1 };
}

#[cfg(test)]
mod tests;
