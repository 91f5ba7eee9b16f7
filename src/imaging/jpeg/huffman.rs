//! Entropy coding: the standard Huffman tables of the JPEG specification
//! (Annex K.3, what libjpeg writes unless told to optimise) and a bit writer
//! with 0xFF byte stuffing.

/// Code counts per length (1..=16) and symbols of the luminance DC table.
const DC_LUMA_BITS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_CHROMA_BITS: [u8; 16] = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
const DC_VALUES: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

const AC_LUMA_BITS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_LUMA_VALUES: [u8; 162] = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
    0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
    0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
    0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
    0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];

const AC_CHROMA_BITS: [u8; 16] = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
const AC_CHROMA_VALUES: [u8; 162] = [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
    0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
    0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
    0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
    0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
    0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
    0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];

/// One Huffman table as the DHT segment carries it.
pub(crate) struct TableSpec {
    /// Table class (0 DC, 1 AC) and id, as one byte.
    pub class_id: u8,
    /// Number of codes of each length 1..=16.
    pub bits: &'static [u8; 16],
    /// Symbols in code order.
    pub values: &'static [u8],
}

/// The four tables in DHT order: luma DC, luma AC, chroma DC, chroma AC.
pub(crate) const SPECS: [TableSpec; 4] = [
    TableSpec {
        class_id: 0x00,
        bits: &DC_LUMA_BITS,
        values: &DC_VALUES,
    },
    TableSpec {
        class_id: 0x10,
        bits: &AC_LUMA_BITS,
        values: &AC_LUMA_VALUES,
    },
    TableSpec {
        class_id: 0x01,
        bits: &DC_CHROMA_BITS,
        values: &DC_VALUES,
    },
    TableSpec {
        class_id: 0x11,
        bits: &AC_CHROMA_BITS,
        values: &AC_CHROMA_VALUES,
    },
];

/// Code and length for every symbol of one table.
#[derive(Clone)]
pub(crate) struct Codes {
    code: [u16; 256],
    len: [u8; 256],
}

impl Codes {
    /// Canonical codes from a table's code counts and symbols.
    pub(crate) fn new(spec: &TableSpec) -> Self {
        let mut codes = Codes {
            code: [0; 256],
            len: [0; 256],
        };
        let (mut code, mut k) = (0u16, 0usize);
        for (length, &count) in (1u8..=16).zip(spec.bits.iter()) {
            for _ in 0..count {
                let symbol = usize::from(spec.values[k]);
                codes.code[symbol] = code;
                codes.len[symbol] = length;
                code += 1;
                k += 1;
            }
            code <<= 1;
        }
        codes
    }
}

/// The DC and AC codes one component uses.
pub(crate) struct ComponentCodes<'a> {
    /// DC difference categories.
    pub dc: &'a Codes,
    /// AC run/size symbols.
    pub ac: &'a Codes,
}

/// Writes bits most significant first, stuffing a zero byte after each 0xFF.
pub(crate) struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    count: u32,
}

impl<'a> BitWriter<'a> {
    /// Appends to `out`.
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        BitWriter {
            out,
            acc: 0,
            count: 0,
        }
    }

    /// Appends the low `len` bits of `bits` (`len` at most 32).
    #[inline(always)]
    fn put(&mut self, bits: u32, len: u32) {
        self.acc = (self.acc << len) | u64::from(bits);
        self.count += len;
        if self.count >= 32 {
            self.count -= 32;
            let word = ((self.acc >> self.count) as u32).to_be_bytes();
            if word.contains(&0xFF) {
                for byte in word {
                    self.out.push(byte);
                    if byte == 0xFF {
                        self.out.push(0);
                    }
                }
            } else {
                self.out.extend_from_slice(&word);
            }
        }
    }

    /// Pads the last byte with one bits and writes out what is left (before
    /// a marker, or at the end of the data).
    pub(crate) fn flush(&mut self) {
        let pad = (8 - self.count % 8) % 8;
        self.put((1 << pad) - 1, pad);
        while self.count >= 8 {
            self.count -= 8;
            let byte = (self.acc >> self.count) as u8;
            self.out.push(byte);
            if byte == 0xFF {
                self.out.push(0);
            }
        }
    }

    /// Writes a restart marker `RSTn` (after [`BitWriter::flush`]).
    pub(crate) fn restart_marker(&mut self, n: u8) {
        self.out.extend_from_slice(&[0xFF, 0xD0 + (n & 7)]);
    }

    /// Codes one quantised block given in zig-zag order, with the mask of
    /// its AC coefficients that are not zero; returns its DC value.
    #[inline(always)]
    pub(crate) fn block(
        &mut self,
        zz: &[i16; 64],
        mut nonzero: u64,
        prev_dc: i16,
        codes: &ComponentCodes<'_>,
    ) -> i16 {
        let dc = zz[0];
        let (size, bits) = magnitude(i32::from(dc) - i32::from(prev_dc));
        self.symbol(codes.dc, size as u8, bits, size);
        let mut last = 0u32;
        while nonzero != 0 {
            let i = nonzero.trailing_zeros();
            nonzero &= nonzero - 1;
            let mut run = i - last - 1;
            while run > 15 {
                self.symbol(codes.ac, 0xF0, 0, 0);
                run -= 16;
            }
            let (size, bits) = magnitude(i32::from(zz[i as usize]));
            self.symbol(codes.ac, ((run << 4) | size) as u8, bits, size);
            last = i;
        }
        if last != 63 {
            self.symbol(codes.ac, 0x00, 0, 0);
        }
        dc
    }

    /// The code of `symbol` followed by `size` extra bits.
    #[inline(always)]
    fn symbol(&mut self, codes: &Codes, symbol: u8, bits: u32, size: u32) {
        let s = usize::from(symbol);
        let len = u32::from(codes.len[s]);
        self.put((u32::from(codes.code[s]) << size) | bits, len + size);
    }
}

/// A value's size category and its extra bits (negative values as the
/// one's complement of their magnitude).
#[inline(always)]
fn magnitude(v: i32) -> (u32, u32) {
    let size = 32 - v.unsigned_abs().leading_zeros();
    let bits = if v < 0 { v - 1 } else { v } as u32;
    (size, bits & ((1u32 << size) - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_codes_follow_the_specification() {
        // Annex K.3: luminance DC category 0 is "00", 1 is "010", 11 is "111111110".
        let dc = Codes::new(&SPECS[0]);
        assert_eq!((dc.code[0], dc.len[0]), (0b00, 2));
        assert_eq!((dc.code[1], dc.len[1]), (0b010, 3));
        assert_eq!((dc.code[11], dc.len[11]), (0b1_1111_1110, 9));
        // Luminance AC: EOB "1010", ZRL "11111111001".
        let ac = Codes::new(&SPECS[1]);
        assert_eq!((ac.code[0x00], ac.len[0x00]), (0b1010, 4));
        assert_eq!((ac.code[0xF0], ac.len[0xF0]), (0b111_1111_1001, 11));
    }

    #[test]
    fn magnitudes_use_ones_complement_for_negatives() {
        assert_eq!(magnitude(0), (0, 0));
        assert_eq!(magnitude(1), (1, 1));
        assert_eq!(magnitude(-1), (1, 0));
        assert_eq!(magnitude(-3), (2, 0b00));
        assert_eq!(magnitude(5), (3, 0b101));
        assert_eq!(magnitude(-5), (3, 0b010));
    }

    #[test]
    fn ff_bytes_are_stuffed_and_padding_is_ones() {
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out);
        w.put(0xFF, 8);
        w.put(0b101, 3);
        w.flush();
        assert_eq!(out, [0xFF, 0x00, 0b1011_1111]);
    }
}
