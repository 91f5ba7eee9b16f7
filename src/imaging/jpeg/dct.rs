//! The forward DCT (Arai–Agui–Nakajima, in floating point) and quantisation.
//!
//! Each pass transforms the eight columns of a block at once (every step
//! works on whole rows of eight lanes, which the compiler turns into vector
//! instructions); the block is transposed between the two passes. The AAN
//! output scale is folded into the quantisation divisors.

use std::f32::consts::PI;

/// Eight lanes, one per column.
type Row = [f32; 8];

/// A block of 8×8 samples, level-shifted to be centred on zero.
pub(crate) type Block = [Row; 8];

/// Eight `f32` lanes: a plain array, or an AVX2 register.
///
/// Private to this file: the AVX2 implementation is sound only because
/// [`pass`] runs on `__m256` lanes solely inside `avx2::transform`.
trait Lanes: Copy {
    /// Lane-wise sum.
    fn add(self, other: Self) -> Self;
    /// Lane-wise difference.
    fn sub(self, other: Self) -> Self;
    /// Every lane times `k`.
    fn scale(self, k: f32) -> Self;
}

impl Lanes for Row {
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        std::array::from_fn(|i| self[i] + other[i])
    }

    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        std::array::from_fn(|i| self[i] - other[i])
    }

    #[inline(always)]
    fn scale(self, k: f32) -> Self {
        std::array::from_fn(|i| self[i] * k)
    }
}

/// One 1-D DCT along the block's first axis, for all eight lanes.
#[inline(always)]
fn pass<V: Lanes>(d: &mut [V; 8]) {
    let (t0, t7) = (d[0].add(d[7]), d[0].sub(d[7]));
    let (t1, t6) = (d[1].add(d[6]), d[1].sub(d[6]));
    let (t2, t5) = (d[2].add(d[5]), d[2].sub(d[5]));
    let (t3, t4) = (d[3].add(d[4]), d[3].sub(d[4]));

    // Even part.
    let (e10, e13) = (t0.add(t3), t0.sub(t3));
    let (e11, e12) = (t1.add(t2), t1.sub(t2));
    d[0] = e10.add(e11);
    d[4] = e10.sub(e11);
    let z1 = e12.add(e13).scale(0.707_106_77);
    d[2] = e13.add(z1);
    d[6] = e13.sub(z1);

    // Odd part.
    let o10 = t4.add(t5);
    let o11 = t5.add(t6);
    let o12 = t6.add(t7);
    let z5 = o10.sub(o12).scale(0.382_683_43);
    let z2 = o10.scale(0.541_196_1).add(z5);
    let z4 = o12.scale(1.306_563).add(z5);
    let z3 = o11.scale(0.707_106_77);
    let (z11, z13) = (t7.add(z3), t7.sub(z3));
    d[5] = z13.add(z2);
    d[3] = z13.sub(z2);
    d[1] = z11.add(z4);
    d[7] = z11.sub(z4);
}

#[inline(always)]
fn transpose(b: &mut Block) {
    let t = *b;
    *b = std::array::from_fn(|i| std::array::from_fn(|j| t[j][i]));
}

/// Transforms `block` in place. The result is transposed: `block[u][v]`
/// holds horizontal frequency `u`, vertical frequency `v`, scaled by AAN's
/// factors (see [`Divisors`]).
#[inline(always)]
pub(crate) fn forward(block: &mut Block) {
    pass(block);
    transpose(block);
    pass(block);
}

/// Transforms and quantises one block into zig-zag order. A kernel value
/// is the proof that the CPU runs its instructions.
pub(crate) trait Kernel: Copy {
    /// [`forward`] then [`quantize`]; returns which AC coefficients are not
    /// zero (bit `i` for `zz[i]`; bit 0 clear).
    fn transform(self, block: &mut Block, divisors: &Divisors, zz: &mut [i16; 64]) -> u64;
}

/// The plain code (vectorised as far as the compiler manages).
#[derive(Clone, Copy)]
pub(crate) struct Portable;

impl Kernel for Portable {
    #[inline(always)]
    fn transform(self, block: &mut Block, divisors: &Divisors, zz: &mut [i16; 64]) -> u64 {
        forward(block);
        quantize(block, divisors, zz);
        let mut nonzero = 0u64;
        for (i, &c) in zz.iter().enumerate().skip(1) {
            nonzero |= u64::from(c != 0) << i;
        }
        nonzero
    }
}

/// Reciprocals of the quantisation steps times the AAN scale, laid out like
/// [`forward`]'s output.
#[derive(Clone)]
pub(crate) struct Divisors([Row; 8]);

impl Divisors {
    /// From a quantisation table in natural (row-major, `[v][u]`) order.
    pub(crate) fn new(table: &[u16; 64]) -> Self {
        let aan = |k: usize| {
            if k == 0 {
                1.0
            } else {
                (k as f64 * f64::from(PI) / 16.0).cos() * std::f64::consts::SQRT_2
            }
        };
        Divisors(std::array::from_fn(|u| {
            std::array::from_fn(|v| {
                let step = f64::from(table[v * 8 + u]) * aan(u) * aan(v) * 8.0;
                (1.0 / step) as f32
            })
        }))
    }
}

/// Quantises a transformed block into zig-zag order.
#[inline(always)]
pub(crate) fn quantize(block: &Block, divisors: &Divisors, zz: &mut [i16; 64]) {
    let mut transposed = [0i16; 64];
    for (out, (row, div)) in transposed
        .chunks_exact_mut(8)
        .zip(block.iter().zip(&divisors.0))
    {
        for (o, (&c, &d)) in out.iter_mut().zip(row.iter().zip(div)) {
            // Baseline JPEG codes AC values of at most 10 bits.
            *o = (c * d).clamp(-1023.0, 1023.0).round_ties_even() as i16;
        }
    }
    scan(&transposed, zz);
}

/// Reads a quantised block laid out like [`forward`]'s output in zig-zag order.
#[inline(always)]
fn scan(transposed: &[i16; 64], zz: &mut [i16; 64]) {
    for (z, &at) in zz.iter_mut().zip(ZIGZAG_TRANSPOSED.iter()) {
        // The mask lets the compiler drop the bounds check.
        *z = transposed[usize::from(at) & 63];
    }
}

/// The same steps with AVX2 intrinsics, bit-identical to [`Portable`]: the
/// compiler vectorises the portable passes poorly, and these took the whole
/// encoder from 7.4 to 4.5 ms per 1.5 MP photo.
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2 {
    use std::arch::x86_64::*;

    use super::{pass, Block, Divisors, Kernel, Lanes};

    /// The AVX2 kernel. A value exists only where the CPU has AVX2
    /// ([`Avx2::detect`]): holding one is the proof every `unsafe` below cites.
    #[derive(Clone, Copy)]
    pub(crate) struct Avx2 {
        _detected: (),
    }

    impl Avx2 {
        /// The kernel, when this CPU supports AVX2.
        pub(crate) fn detect() -> Option<Self> {
            std::arch::is_x86_feature_detected!("avx2").then_some(Avx2 { _detected: () })
        }
    }

    impl Kernel for Avx2 {
        #[inline(always)]
        fn transform(self, block: &mut Block, divisors: &Divisors, zz: &mut [i16; 64]) -> u64 {
            // SAFETY: `self` exists only after AVX2 was detected.
            unsafe {
                transform(block, divisors, zz);
                nonzero(zz)
            }
        }
    }

    #[target_feature(enable = "avx2")]
    fn transform(block: &Block, divisors: &Divisors, zz: &mut [i16; 64]) {
        let mut r = [_mm256_setzero_ps(); 8];
        for (v, row) in r.iter_mut().zip(block) {
            // SAFETY: `row` is 8 `f32`s, the 32 bytes an unaligned load reads.
            *v = unsafe { _mm256_loadu_ps(row.as_ptr()) };
        }
        pass(&mut r);
        transpose(&mut r);
        pass(&mut r);
        let mut transposed = [0i16; 64];
        let limit = _mm256_set1_ps(1023.0);
        for i in (0..8).step_by(2) {
            let q = |v: __m256, d: &[f32; 8]| {
                // SAFETY: `d` is 8 `f32`s, the 32 bytes an unaligned load reads.
                let scaled = _mm256_mul_ps(v, unsafe { _mm256_loadu_ps(d.as_ptr()) });
                let clamped = _mm256_max_ps(
                    _mm256_min_ps(scaled, limit),
                    _mm256_sub_ps(_mm256_setzero_ps(), limit),
                );
                // Rounds to nearest, ties to even (the default rounding mode).
                _mm256_cvtps_epi32(clamped)
            };
            let (a, b) = (q(r[i], &divisors.0[i]), q(r[i + 1], &divisors.0[i + 1]));
            // packs interleaves the 128-bit halves; put them back in order.
            let packed = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packs_epi32(a, b));
            let dest = &mut transposed[i * 8..i * 8 + 16];
            // SAFETY: `dest` is 16 `i16`s, the 32 bytes an unaligned store writes.
            unsafe { _mm256_storeu_si256(dest.as_mut_ptr().cast(), packed) };
        }
        super::scan(&transposed, zz);
    }

    /// One bit per coefficient that is not zero, DC excluded.
    #[target_feature(enable = "avx2")]
    fn nonzero(zz: &[i16; 64]) -> u64 {
        let zero = _mm256_setzero_si256();
        let mut mask = 0u64;
        for half in 0..2 {
            let (lo, hi) = (
                &zz[half * 32..half * 32 + 16],
                &zz[half * 32 + 16..half * 32 + 32],
            );
            // SAFETY: `lo` and `hi` are 16 `i16`s each, the 32 bytes an unaligned load reads.
            let (a, b) = unsafe {
                (
                    _mm256_loadu_si256(lo.as_ptr().cast()),
                    _mm256_loadu_si256(hi.as_ptr().cast()),
                )
            };
            let is_zero =
                _mm256_packs_epi16(_mm256_cmpeq_epi16(a, zero), _mm256_cmpeq_epi16(b, zero));
            let ordered = _mm256_permute4x64_epi64::<0b11_01_10_00>(is_zero);
            let bits = !(_mm256_movemask_epi8(ordered) as u32);
            mask |= u64::from(bits) << (half * 32);
        }
        mask & !1
    }

    // `pass::<__m256>` is inlined into `transform` only (`Lanes` is private to
    // the parent module), which runs with AVX2 enabled.
    impl Lanes for __m256 {
        #[inline(always)]
        fn add(self, other: Self) -> Self {
            // SAFETY: reached only from `transform` (AVX2 detected; see above).
            unsafe { _mm256_add_ps(self, other) }
        }

        #[inline(always)]
        fn sub(self, other: Self) -> Self {
            // SAFETY: reached only from `transform` (AVX2 detected; see above).
            unsafe { _mm256_sub_ps(self, other) }
        }

        #[inline(always)]
        fn scale(self, k: f32) -> Self {
            // SAFETY: reached only from `transform` (AVX2 detected; see above).
            unsafe { _mm256_mul_ps(self, _mm256_set1_ps(k)) }
        }
    }

    /// 8×8 transpose: pairs, then quads, then 128-bit halves.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn transpose(r: &mut [__m256; 8]) {
        let t: [__m256; 8] = [
            _mm256_unpacklo_ps(r[0], r[1]),
            _mm256_unpackhi_ps(r[0], r[1]),
            _mm256_unpacklo_ps(r[2], r[3]),
            _mm256_unpackhi_ps(r[2], r[3]),
            _mm256_unpacklo_ps(r[4], r[5]),
            _mm256_unpackhi_ps(r[4], r[5]),
            _mm256_unpacklo_ps(r[6], r[7]),
            _mm256_unpackhi_ps(r[6], r[7]),
        ];
        let u: [__m256; 8] = [
            _mm256_shuffle_ps::<0x44>(t[0], t[2]),
            _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
            _mm256_shuffle_ps::<0x44>(t[1], t[3]),
            _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
            _mm256_shuffle_ps::<0x44>(t[4], t[6]),
            _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
            _mm256_shuffle_ps::<0x44>(t[5], t[7]),
            _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
        ];
        for i in 0..4 {
            r[i] = _mm256_permute2f128_ps::<0x20>(u[i], u[i + 4]);
            r[i + 4] = _mm256_permute2f128_ps::<0x31>(u[i], u[i + 4]);
        }
    }
}

/// [`ZIGZAG`] for blocks stored transposed (`[u][v]`): position `v * 8 + u`
/// is at `u * 8 + v`.
const ZIGZAG_TRANSPOSED: [u8; 64] = {
    let mut t = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        t[i] = (ZIGZAG[i] % 8) * 8 + ZIGZAG[i] / 8;
        i += 1;
    }
    t
};

/// The zig-zag scan as row-major (`v * 8 + u`) positions.
pub(crate) const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook DCT-II with JPEG's normalisation.
    fn reference(samples: &[[f64; 8]; 8]) -> [[f64; 8]; 8] {
        let c = |k: usize| if k == 0 { 1.0 / 2f64.sqrt() } else { 1.0 };
        std::array::from_fn(|v| {
            std::array::from_fn(|u| {
                let mut sum = 0.0;
                for (y, row) in samples.iter().enumerate() {
                    for (x, &s) in row.iter().enumerate() {
                        sum += s
                            * ((2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / 16.0).cos()
                            * ((2 * y + 1) as f64 * v as f64 * std::f64::consts::PI / 16.0).cos();
                    }
                }
                0.25 * c(u) * c(v) * sum
            })
        })
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_kernel_equals_the_portable_one() {
        let Some(avx2) = avx2::Avx2::detect() else {
            return;
        };
        let table: [u16; 64] = std::array::from_fn(|i| 1 + (i as u16 * 7) % 40);
        let divisors = Divisors::new(&table);
        for seed in 0..200u32 {
            let block: Block = std::array::from_fn(|y| {
                std::array::from_fn(|x| {
                    let v = seed
                        .wrapping_mul(2_654_435_761)
                        .wrapping_add((y * 8 + x) as u32 * 40_503);
                    (v >> 13) as f32 % 256.0 - 128.0 + (seed % 3) as f32 * 0.37
                })
            });
            let (mut a, mut b) = (block, block);
            let (mut za, mut zb) = ([0i16; 64], [0i16; 64]);
            let (ma, mb) = (
                Portable.transform(&mut a, &divisors, &mut za),
                avx2.transform(&mut b, &divisors, &mut zb),
            );
            assert_eq!(za, zb, "seed {seed}");
            assert_eq!(ma, mb, "seed {seed}");
            assert!(
                ma.count_ones() > 0 && ma.count_ones() < 63,
                "seed {seed}: {ma:x}"
            );
        }
    }

    #[test]
    fn matches_the_textbook_dct_with_unit_steps() {
        let samples: [[f64; 8]; 8] = std::array::from_fn(|y| {
            std::array::from_fn(|x| ((x * 37 + y * 91 + x * y * 13) % 256) as f64 - 128.0)
        });
        let mut block: Block =
            std::array::from_fn(|y| std::array::from_fn(|x| samples[y][x] as f32));
        forward(&mut block);
        let mut zz = [0i16; 64];
        quantize(&block, &Divisors::new(&[1; 64]), &mut zz);
        let want = reference(&samples);
        for (i, &pos) in ZIGZAG.iter().enumerate() {
            let (v, u) = (usize::from(pos) / 8, usize::from(pos) % 8);
            let expected = want[v][u].round().clamp(-1023.0, 1023.0);
            assert!(
                (f64::from(zz[i]) - expected).abs() <= 1.0,
                "({u}, {v}): {} vs {expected}",
                zz[i]
            );
        }
    }
}
