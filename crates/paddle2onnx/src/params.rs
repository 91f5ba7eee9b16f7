//! Reads `inference.pdiparams`: the program's persistable parameters, back
//! to back, in the order [`Program::params`](crate::program::Program) lists
//! them, and nothing after the last one.
//!
//! Each tensor (little-endian): `u32` version 0, `u64` LoD level count and
//! per level a `u64` byte size plus that many bytes, `u32` version 0, `i32`
//! size of a `TensorDesc` protobuf (field 1: element type, field 2: dims,
//! packed or not) and the protobuf, then the raw elements, row-major.
//!
//! Every size is checked against the bytes left in the file before anything
//! is allocated, so a damaged or hostile file cannot make the reader
//! allocate more than the file holds.

use std::io::Read;

use crate::error::ErrorKind;
use crate::program::{DType, Parameter};

/// The largest `TensorDesc` accepted (a real one is a few dozen bytes).
const MAX_DESC_BYTES: u64 = 1 << 16;
/// The most LoD levels accepted (weights have none).
const MAX_LOD_LEVELS: u64 = 16;

/// Reads parameters one at a time from a parameters file of `len` bytes.
pub struct ParamReader<R> {
    source: R,
    left: u64,
    offset: u64,
}

fn bad(message: impl Into<String>) -> ErrorKind {
    ErrorKind::Params(message.into())
}

impl<R: Read> ParamReader<R> {
    /// Reads from `source`, which holds `len` bytes.
    pub fn new(source: R, len: u64) -> Self {
        ParamReader {
            source,
            left: len,
            offset: 0,
        }
    }

    fn bytes(&mut self, n: u64, what: &str) -> Result<Vec<u8>, ErrorKind> {
        if n > self.left {
            return Err(bad(format!(
                "{what} at byte {} needs {n} bytes, but only {} are left: the file is truncated or does not belong to this program",
                self.offset, self.left
            )));
        }
        let mut buf = vec![0; n as usize];
        self.source.read_exact(&mut buf)?;
        self.left -= n;
        self.offset += n;
        Ok(buf)
    }

    fn u32(&mut self, what: &str) -> Result<u32, ErrorKind> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64, ErrorKind> {
        let b = self.bytes(8, what)?;
        let mut a = [0; 8];
        a.copy_from_slice(&b);
        Ok(u64::from_le_bytes(a))
    }

    /// Reads the next tensor, checks it is `param` (element type and dims)
    /// and returns its raw little-endian bytes.
    pub fn read(&mut self, param: &Parameter) -> Result<Vec<u8>, ErrorKind> {
        let name = &param.name;
        let start = self.offset;
        let version = self.u32(name)?;
        if version != 0 {
            return Err(bad(format!(
                "tensor `{name}` at byte {start}: version {version}, expected 0"
            )));
        }
        let levels = self.u64(name)?;
        if levels > MAX_LOD_LEVELS {
            return Err(bad(format!(
                "tensor `{name}` at byte {start}: {levels} LoD levels"
            )));
        }
        for _ in 0..levels {
            let size = self.u64(name)?;
            self.bytes(size, name)?;
        }
        let version = self.u32(name)?;
        if version != 0 {
            return Err(bad(format!(
                "tensor `{name}` at byte {start}: tensor version {version}, expected 0"
            )));
        }
        let desc_len = self.u32(name)? as i32;
        if desc_len <= 0 || desc_len as u64 > MAX_DESC_BYTES {
            return Err(bad(format!(
                "tensor `{name}` at byte {start}: descriptor of {desc_len} bytes"
            )));
        }
        let desc = self.bytes(desc_len as u64, name)?;
        let (code, dims) = parse_tensor_desc(&desc)
            .ok_or_else(|| bad(format!("tensor `{name}` at byte {start}: bad descriptor")))?;
        let dtype = DType::from_proto(code).ok_or_else(|| {
            bad(format!(
                "tensor `{name}` at byte {start}: unknown element type {code}"
            ))
        })?;
        if dtype != param.dtype || dims != param.dims {
            return Err(bad(format!(
                "tensor `{name}` at byte {start} is {dtype:?} {dims:?}, but the program declares {:?} {:?}: the weights file does not belong to this program",
                param.dtype, param.dims
            )));
        }
        let numel = dims.iter().try_fold(1u64, |acc, &d| {
            u64::try_from(d).ok().and_then(|d| acc.checked_mul(d))
        });
        let size = numel
            .and_then(|n| n.checked_mul(dtype.size() as u64))
            .ok_or_else(|| bad(format!("tensor `{name}`: dims {dims:?} overflow")))?;
        self.bytes(size, name)
    }

    /// Checks that nothing follows the last tensor.
    pub fn finish(self) -> Result<(), ErrorKind> {
        if self.left != 0 {
            return Err(bad(format!(
                "{} bytes follow the last parameter: the weights file does not belong to this program",
                self.left
            )));
        }
        Ok(())
    }
}

fn varint(data: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *data.get(*pos)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// `TensorDesc { data_type = 1; repeated int64 dims = 2; }`, dims packed or not.
fn parse_tensor_desc(data: &[u8]) -> Option<(i64, Vec<i64>)> {
    let mut pos = 0;
    let mut code = None;
    let mut dims = Vec::new();
    while pos < data.len() {
        let key = varint(data, &mut pos)?;
        match (key >> 3, key & 7) {
            (1, 0) => code = Some(varint(data, &mut pos)? as i64),
            (2, 0) => dims.push(varint(data, &mut pos)? as i64),
            (2, 2) => {
                let len = varint(data, &mut pos)? as usize;
                let end = pos.checked_add(len).filter(|&e| e <= data.len())?;
                while pos < end {
                    dims.push(varint(data, &mut pos)? as i64);
                }
                if pos != end {
                    return None;
                }
            }
            (_, 0) => {
                varint(data, &mut pos)?;
            }
            (_, 2) => {
                let len = varint(data, &mut pos)? as usize;
                pos = pos.checked_add(len).filter(|&e| e <= data.len())?;
            }
            (_, 1) => pos = pos.checked_add(8).filter(|&e| e <= data.len())?,
            (_, 5) => pos = pos.checked_add(4).filter(|&e| e <= data.len())?,
            _ => return None,
        }
    }
    Some((code?, dims))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One tensor as Paddle writes it; `packed` writes dims packed.
    pub(crate) fn tensor_bytes(
        code: u8,
        dims: &[i64],
        data: &[u8],
        lod: &[&[u8]],
        packed: bool,
    ) -> Vec<u8> {
        let mut desc = vec![0x08, code];
        if packed {
            let mut body = Vec::new();
            for &d in dims {
                put_varint(&mut body, d as u64);
            }
            desc.push(0x12);
            put_varint(&mut desc, body.len() as u64);
            desc.extend(body);
        } else {
            for &d in dims {
                desc.push(0x10);
                put_varint(&mut desc, d as u64);
            }
        }
        let mut out = 0u32.to_le_bytes().to_vec();
        out.extend((lod.len() as u64).to_le_bytes());
        for level in lod {
            out.extend((level.len() as u64).to_le_bytes());
            out.extend(*level);
        }
        out.extend(0u32.to_le_bytes());
        out.extend((desc.len() as i32).to_le_bytes());
        out.extend(desc);
        out.extend(data);
        out
    }

    fn put_varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn param(name: &str, dtype: DType, dims: &[i64]) -> Parameter {
        Parameter {
            name: name.into(),
            value: 1,
            dtype,
            dims: dims.to_vec(),
        }
    }

    #[test]
    fn reads_plain_packed_lod_and_half_tensors() {
        let f32s: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut file = tensor_bytes(5, &[2, 3], &f32s, &[], false);
        file.extend(tensor_bytes(5, &[300], &vec![0; 1200], &[], true));
        file.extend(tensor_bytes(
            4,
            &[2],
            &[0, 0x3c, 0, 0xc0],
            &[&[1, 2, 3]],
            false,
        ));
        let mut r = ParamReader::new(file.as_slice(), file.len() as u64);
        assert_eq!(r.read(&param("a", DType::F32, &[2, 3])).unwrap(), f32s);
        assert_eq!(r.read(&param("b", DType::F32, &[300])).unwrap().len(), 1200);
        assert_eq!(
            r.read(&param("c", DType::F16, &[2])).unwrap(),
            [0, 0x3c, 0, 0xc0]
        );
        r.finish().unwrap();
    }

    #[test]
    fn refuses_mismatches_trailing_bytes_and_huge_sizes() {
        let file = tensor_bytes(5, &[2], &[0; 8], &[], false);
        let mut r = ParamReader::new(file.as_slice(), file.len() as u64);
        let e = r
            .read(&param("w", DType::F32, &[3]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`w`") && e.contains("declares"), "{e}");

        let mut long = file.clone();
        long.push(0);
        let mut r = ParamReader::new(long.as_slice(), long.len() as u64);
        r.read(&param("w", DType::F32, &[2])).unwrap();
        assert!(r
            .finish()
            .unwrap_err()
            .to_string()
            .contains("1 bytes follow"));

        // A descriptor declaring 2^40 elements: refused before allocating.
        let huge = tensor_bytes(5, &[1 << 40], &[0; 8], &[], false);
        let mut r = ParamReader::new(huge.as_slice(), huge.len() as u64);
        let e = r
            .read(&param("h", DType::F32, &[1 << 40]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("truncated"), "{e}");

        // Truncated anywhere: an error, never a panic.
        for cut in 0..file.len() {
            let mut r = ParamReader::new(&file[..cut], cut as u64);
            assert!(r.read(&param("w", DType::F32, &[2])).is_err());
        }
        // A huge LoD level size.
        let mut lod = 0u32.to_le_bytes().to_vec();
        lod.extend(1u64.to_le_bytes());
        lod.extend(u64::MAX.to_le_bytes());
        let mut r = ParamReader::new(lod.as_slice(), lod.len() as u64);
        assert!(r.read(&param("l", DType::F32, &[2])).is_err());
    }
}
