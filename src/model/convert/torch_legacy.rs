//! Reads PyTorch's legacy (pre-1.6, non-zip) `torch.save` format.
//!
//! A legacy file is a concatenation of:
//!
//! 1. a pickle of the magic number `0x1950a86a20f9469cfc6c`;
//! 2. a pickle of the protocol version (`1001`);
//! 3. a pickle of system info (`{'protocol_version', 'little_endian', 'type_sizes'}`);
//! 4. the pickled object itself: here a state dict, an `OrderedDict` mapping
//!    names to `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`
//!    calls whose storage is a persistent id
//!    `('storage', StorageClass, key, location, numel, view_metadata)`;
//! 5. a pickled list of storage keys;
//! 6. for each key in that order: the element count as a little-endian `i64`,
//!    then the storage's raw bytes.
//!
//! Only `f32` tensors are returned; `i64` tensors (BatchNorm's
//! `num_batches_tracked` counters) are skipped, as inference never needs them.

use std::collections::{BTreeMap, HashMap};

use super::pickle::{read_pickle, Global, Value};
use super::ConvertError;

/// The magic number opening every legacy PyTorch file.
pub(crate) const LEGACY_MAGIC: i128 = 0x1950a86a20f9469cfc6c;

/// The only legacy protocol version PyTorch ever wrote.
pub(crate) const LEGACY_PROTOCOL_VERSION: i128 = 1001;

/// A dense, row-major `f32` tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Dimensions, outermost first (empty for a scalar).
    pub shape: Vec<usize>,
    /// The elements in row-major (C) order; `data.len()` is the product of `shape`.
    pub data: Vec<f32>,
}

impl Tensor {
    #[cfg(test)]
    /// Number of elements.
    pub(crate) fn numel(&self) -> usize {
        self.data.len()
    }
}

/// A state dict: parameter name to tensor.
pub type StateDict = BTreeMap<String, Tensor>;

/// Element type of a storage, from its pickled class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StorageKind {
    F32,
    I64,
}

impl StorageKind {
    fn from_global(g: Global) -> Option<Self> {
        match g {
            Global::FloatStorage => Some(StorageKind::F32),
            Global::LongStorage => Some(StorageKind::I64),
            _ => None,
        }
    }

    fn elem_size(self) -> usize {
        match self {
            StorageKind::F32 => 4,
            StorageKind::I64 => 8,
        }
    }
}

/// A storage as declared by the tensors' persistent ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StorageDecl {
    kind: StorageKind,
    numel: usize,
}

/// One `_rebuild_tensor_v2` call from the state dict.
#[derive(Debug)]
struct TensorRecord {
    name: String,
    storage_key: String,
    kind: StorageKind,
    /// Element count of the whole storage, as declared by the persistent id.
    storage_numel: usize,
    offset: usize,
    size: Vec<usize>,
    stride: Vec<usize>,
}

/// Parses a legacy `.pth` file holding a state dict.
///
/// Tensors may be views with any non-negative strides into their storage;
/// they are copied out into dense row-major [`Tensor`]s. `i64` tensors are
/// left out of the result.
pub fn load_legacy_state_dict(bytes: &[u8]) -> Result<StateDict, ConvertError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(ConvertError::ZipCheckpoint);
    }
    let pos = read_header(bytes)?;
    let (root, pos) = read_pickle(bytes, pos)?;
    let records = tensor_records(&root)?;
    let decls = storage_decls(&records)?;
    let (keys, pos) = read_pickle(bytes, pos)?;
    let storages = read_storages(bytes, pos, &keys, &decls)?;
    let mut out = StateDict::new();
    for rec in records.into_iter().filter(|r| r.kind == StorageKind::F32) {
        let storage = storages
            .get(&rec.storage_key)
            .ok_or_else(|| ConvertError::Tensor {
                name: rec.name.clone(),
                reason: format!("storage `{}` is missing from the file", rec.storage_key),
            })?;
        let data = gather(storage, rec.offset, &rec.size, &rec.stride).map_err(|reason| {
            ConvertError::Tensor {
                name: rec.name.clone(),
                reason,
            }
        })?;
        out.insert(
            rec.name,
            Tensor {
                shape: rec.size,
                data,
            },
        );
    }
    Ok(out)
}

/// Checks the magic number, protocol version and system info; returns the
/// offset of the object pickle.
fn read_header(bytes: &[u8]) -> Result<usize, ConvertError> {
    let not_legacy =
        || ConvertError::Checkpoint("not a legacy PyTorch file (bad magic number)".into());
    let (magic, pos) = read_pickle(bytes, 0).map_err(|_| not_legacy())?;
    if magic.as_int() != Some(LEGACY_MAGIC) {
        return Err(not_legacy());
    }
    let (version, pos) = read_pickle(bytes, pos)?;
    if version.as_int() != Some(LEGACY_PROTOCOL_VERSION) {
        return Err(ConvertError::Checkpoint(format!(
            "unsupported legacy protocol version {version:?}"
        )));
    }
    let (info, pos) = read_pickle(bytes, pos)?;
    let entries = info.as_dict().ok_or_else(|| {
        ConvertError::Checkpoint(format!("system info is a {}, not a dict", info.kind()))
    })?;
    let little_endian = entries
        .iter()
        .rev()
        .find(|(k, _)| k.as_str() == Some("little_endian"))
        .map(|(_, v)| v);
    // Storages are raw native-endian bytes; only little-endian writers are handled.
    if let Some(v) = little_endian {
        if *v != Value::Bool(true) {
            return Err(ConvertError::Checkpoint(
                "file was written on a big-endian machine".into(),
            ));
        }
    }
    Ok(pos)
}

/// Interprets the state-dict pickle as a list of tensor records.
fn tensor_records(root: &Value) -> Result<Vec<TensorRecord>, ConvertError> {
    let entries = root.as_dict().ok_or_else(|| {
        ConvertError::Checkpoint(format!(
            "the saved object is a {}, not a state dict",
            root.kind()
        ))
    })?;
    // Later duplicates win, as in Python.
    let mut by_name: BTreeMap<String, TensorRecord> = BTreeMap::new();
    for (key, value) in entries {
        let name = key.as_str().ok_or_else(|| {
            ConvertError::Checkpoint(format!("state-dict key is a {}, not a str", key.kind()))
        })?;
        let rec = tensor_record(name, value).map_err(|reason| ConvertError::Tensor {
            name: name.to_owned(),
            reason,
        })?;
        by_name.insert(name.to_owned(), rec);
    }
    Ok(by_name.into_values().collect())
}

/// Interprets `_rebuild_tensor_v2(storage, offset, size, stride, ...)`.
fn tensor_record(name: &str, value: &Value) -> Result<TensorRecord, String> {
    let Value::Call {
        func: Global::RebuildTensorV2,
        args,
    } = value
    else {
        return Err(format!("value is a {}, not a tensor", value.kind()));
    };
    let [storage, offset, size, stride, ..] = args.as_slice() else {
        return Err(format!(
            "_rebuild_tensor_v2 with {} argument(s)",
            args.len()
        ));
    };
    let (storage_key, kind, storage_numel) = storage_ref(storage)?;
    let offset = to_usize(offset).ok_or("storage offset is not a non-negative int")?;
    let size = usize_tuple(size).ok_or("size is not a tuple of non-negative ints")?;
    let stride = usize_tuple(stride).ok_or("stride is not a tuple of non-negative ints")?;
    if size.len() != stride.len() {
        return Err(format!(
            "size {size:?} and stride {stride:?} differ in rank"
        ));
    }
    Ok(TensorRecord {
        name: name.to_owned(),
        storage_key,
        kind,
        storage_numel,
        offset,
        size,
        stride,
    })
}

/// Interprets the persistent id `('storage', StorageClass, key, location, numel, view_metadata)`,
/// returning the key, element type and element count.
fn storage_ref(value: &Value) -> Result<(String, StorageKind, usize), String> {
    let Value::PersistentId(pid) = value else {
        return Err(format!(
            "storage is a {}, not a persistent id",
            value.kind()
        ));
    };
    let fields = pid.as_tuple().ok_or("persistent id is not a tuple")?;
    let [tag, class, key, _location, numel, rest @ ..] = fields else {
        return Err(format!("persistent id has {} field(s)", fields.len()));
    };
    if tag.as_str() != Some("storage") {
        return Err(format!("persistent id tag is {tag:?}, not 'storage'"));
    }
    let kind = match class {
        Value::Global(g) => StorageKind::from_global(*g),
        _ => None,
    }
    .ok_or_else(|| format!("storage class {class:?} is not FloatStorage or LongStorage"))?;
    let key = key.as_str().ok_or("storage key is not a str")?.to_owned();
    let numel = to_usize(numel).ok_or("storage size is not a non-negative int")?;
    // Pre-1.0 files could share one storage between views; never seen in state dicts.
    if rest.first().is_some_and(|v| *v != Value::None) {
        return Err("storage views (view_metadata) are not supported".into());
    }
    Ok((key, kind, numel))
}

fn to_usize(v: &Value) -> Option<usize> {
    v.as_int().and_then(|i| usize::try_from(i).ok())
}

fn usize_tuple(v: &Value) -> Option<Vec<usize>> {
    v.as_tuple()?.iter().map(to_usize).collect()
}

/// Collects each storage's declared type and size, checking that all
/// tensors sharing a storage agree on them.
fn storage_decls(records: &[TensorRecord]) -> Result<HashMap<String, StorageDecl>, ConvertError> {
    let mut decls: HashMap<String, StorageDecl> = HashMap::new();
    for rec in records {
        let decl = StorageDecl {
            kind: rec.kind,
            numel: rec.storage_numel,
        };
        match decls.get(&rec.storage_key) {
            Some(existing) if *existing != decl => {
                return Err(ConvertError::Tensor {
                    name: rec.name.clone(),
                    reason: format!(
                        "storage `{}` is declared as {existing:?} elsewhere but {decl:?} here",
                        rec.storage_key
                    ),
                })
            }
            Some(_) => {}
            None => {
                decls.insert(rec.storage_key.clone(), decl);
            }
        }
    }
    Ok(decls)
}

/// Reads the storage key list's data section: per key an `i64` element count
/// and the raw bytes. Returns the `f32` storages, decoded.
fn read_storages(
    bytes: &[u8],
    mut pos: usize,
    keys: &Value,
    decls: &HashMap<String, StorageDecl>,
) -> Result<HashMap<String, Vec<f32>>, ConvertError> {
    let keys = keys.as_list().ok_or_else(|| {
        ConvertError::Checkpoint(format!("storage key list is a {}, not a list", keys.kind()))
    })?;
    let mut out = HashMap::new();
    for key in keys {
        let key = key
            .as_str()
            .ok_or_else(|| ConvertError::Checkpoint("storage key is not a str".into()))?;
        let decl = decls.get(key).ok_or_else(|| {
            ConvertError::Checkpoint(format!("storage `{key}` is not used by any tensor"))
        })?;
        let numel = read_i64(bytes, pos)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                ConvertError::Checkpoint(format!("storage `{key}`: bad or missing element count"))
            })?;
        pos += 8;
        if numel != decl.numel {
            return Err(ConvertError::Checkpoint(format!(
                "storage `{key}` has {numel} elements, the pickle declared {}",
                decl.numel
            )));
        }
        let len = numel
            .checked_mul(decl.kind.elem_size())
            .ok_or_else(|| ConvertError::Checkpoint(format!("storage `{key}` is too large")))?;
        let raw = pos
            .checked_add(len)
            .and_then(|end| bytes.get(pos..end))
            .ok_or_else(|| ConvertError::Checkpoint(format!("storage `{key}` is truncated")))?;
        pos += len;
        if decl.kind == StorageKind::F32 {
            let data = raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            if out.insert(key.to_owned(), data).is_some() {
                return Err(ConvertError::Checkpoint(format!(
                    "storage `{key}` appears twice"
                )));
            }
        }
    }
    if pos != bytes.len() {
        return Err(ConvertError::Checkpoint(format!(
            "{} unexpected trailing byte(s) after the last storage",
            bytes.len() - pos
        )));
    }
    Ok(out)
}

fn read_i64(bytes: &[u8], pos: usize) -> Option<i64> {
    let raw = bytes.get(pos..pos.checked_add(8)?)?;
    Some(i64::from_le_bytes(raw.try_into().ok()?))
}

/// Copies a strided view out of `storage` into a dense row-major vector.
fn gather(
    storage: &[f32],
    offset: usize,
    size: &[usize],
    stride: &[usize],
) -> Result<Vec<f32>, String> {
    let numel = size
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or("element count overflows")?;
    if numel == 0 {
        return Ok(Vec::new());
    }
    // The furthest element the view touches must lie inside the storage.
    let last = size
        .iter()
        .zip(stride)
        .try_fold(offset, |acc, (&d, &s)| {
            acc.checked_add((d - 1).checked_mul(s)?)
        })
        .ok_or("view extent overflows")?;
    if last >= storage.len() {
        return Err(format!(
            "view (offset {offset}, size {size:?}, stride {stride:?}) exceeds its storage of {} elements",
            storage.len()
        ));
    }
    if is_contiguous(size, stride) {
        return Ok(storage[offset..offset + numel].to_vec());
    }
    let mut out = Vec::with_capacity(numel);
    let mut index = vec![0usize; size.len()];
    for _ in 0..numel {
        let at = offset + index.iter().zip(stride).map(|(i, s)| i * s).sum::<usize>();
        out.push(storage[at]);
        // Odometer increment, last dimension fastest.
        for dim in (0..size.len()).rev() {
            index[dim] += 1;
            if index[dim] < size[dim] {
                break;
            }
            index[dim] = 0;
        }
    }
    Ok(out)
}

/// Whether `stride` is the row-major layout of `size` (size-1 dims may have any stride).
fn is_contiguous(size: &[usize], stride: &[usize]) -> bool {
    let mut expected = 1usize;
    for (&d, &s) in size.iter().zip(stride).rev() {
        if d != 1 && s != expected {
            return false;
        }
        expected = expected.saturating_mul(d);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes protocol-2 pickles the way `torch.save` does (a subset).
    struct Pickle(Vec<u8>);

    impl Pickle {
        fn new() -> Self {
            Pickle(vec![0x80, 2])
        }
        fn op(mut self, bytes: &[u8]) -> Self {
            self.0.extend_from_slice(bytes);
            self
        }
        fn str(mut self, s: &str) -> Self {
            self.0.push(b'X');
            self.0
                .extend_from_slice(&u32::try_from(s.len()).expect("short").to_le_bytes());
            self.0.extend_from_slice(s.as_bytes());
            self
        }
        fn int(mut self, i: u16) -> Self {
            self.0.push(b'M');
            self.0.extend_from_slice(&i.to_le_bytes());
            self
        }
        fn global(mut self, module: &str, name: &str) -> Self {
            self.0.push(b'c');
            self.0
                .extend_from_slice(format!("{module}\n{name}\n").as_bytes());
            self
        }
        fn ints(self, values: &[u16]) -> Self {
            values.iter().fold(self.op(b"("), |p, &v| p.int(v)).op(b"t")
        }
        /// `_rebuild_tensor_v2(('storage', cls, key, 'cpu', numel, None), offset, size, stride, False, OrderedDict())`
        fn tensor(
            self,
            class: &str,
            key: &str,
            numel: u16,
            offset: u16,
            size: &[u16],
            stride: &[u16],
        ) -> Self {
            self.global("torch._utils", "_rebuild_tensor_v2")
                .op(b"((")
                .str("storage")
                .global("torch", class)
                .str(key)
                .str("cpu")
                .int(numel)
                .op(b"NtQ")
                .int(offset)
                .ints(size)
                .ints(stride)
                .op(&[0x89])
                .global("collections", "OrderedDict")
                .op(b")RtR")
        }
        fn stop(self) -> Vec<u8> {
            self.op(b".").0
        }
    }

    fn header() -> Vec<u8> {
        let mut magic = Pickle::new().op(&[0x8a, 10]);
        magic.0.extend_from_slice(&LEGACY_MAGIC.to_le_bytes()[..10]);
        let mut out = magic.stop();
        out.extend(Pickle::new().int(1001).stop());
        out.extend(
            Pickle::new()
                .op(b"}(")
                .str("little_endian")
                .op(&[0x88])
                .op(b"u")
                .stop(),
        );
        out
    }

    fn storage_f32(values: &[f32]) -> Vec<u8> {
        let mut out = (values.len() as i64).to_le_bytes().to_vec();
        values
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        out
    }

    /// A two-tensor state dict plus an int64 counter:
    /// * `a`: shape (2, 3), contiguous, at offset 2 into storage "0" (8 floats);
    /// * `b`: shape (3, 2), strides (1, 3): a transposed view of storage "1";
    /// * `n`: a LongStorage scalar, to be skipped.
    fn tiny_file(a_offset: u16) -> Vec<u8> {
        let mut out = header();
        out.extend(
            Pickle::new()
                .global("collections", "OrderedDict")
                .op(b")R(")
                .str("a")
                .tensor("FloatStorage", "0", 8, a_offset, &[2, 3], &[3, 1])
                .str("b")
                .tensor("FloatStorage", "1", 6, 0, &[3, 2], &[1, 3])
                .str("n")
                .tensor("LongStorage", "2", 1, 0, &[], &[])
                .op(b"u")
                .stop(),
        );
        out.extend(
            Pickle::new()
                .op(b"](")
                .str("0")
                .str("1")
                .str("2")
                .op(b"e")
                .stop(),
        );
        out.extend(storage_f32(&[0., 1., 2., 3., 4., 5., 6., 7.]));
        out.extend(storage_f32(&[10., 11., 12., 13., 14., 15.]));
        out.extend(1i64.to_le_bytes());
        out.extend(42i64.to_le_bytes());
        out
    }

    #[test]
    fn reads_values_shapes_offsets_and_strides() {
        let sd = load_legacy_state_dict(&tiny_file(2)).unwrap();
        assert_eq!(sd.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(sd["a"].shape, [2, 3]);
        assert_eq!(sd["a"].data, [2., 3., 4., 5., 6., 7.]);
        // b[i][j] = storage[i + 3 j]
        assert_eq!(sd["b"].shape, [3, 2]);
        assert_eq!(sd["b"].data, [10., 13., 11., 14., 12., 15.]);
        assert_eq!(sd["b"].numel(), 6);
    }

    #[test]
    fn refuses_views_outside_their_storage() {
        let err = load_legacy_state_dict(&tiny_file(3)).unwrap_err();
        assert!(
            matches!(&err, ConvertError::Tensor { name, .. } if name == "a"),
            "{err}"
        );
    }

    #[test]
    fn refuses_other_layouts_and_damage() {
        assert!(matches!(
            load_legacy_state_dict(b"PK\x03\x04rest"),
            Err(ConvertError::ZipCheckpoint)
        ));
        assert!(matches!(
            load_legacy_state_dict(&Pickle::new().int(7).stop()),
            Err(ConvertError::Checkpoint(_))
        ));
        let good = tiny_file(2);
        // Truncated data, trailing data.
        assert!(load_legacy_state_dict(&good[..good.len() - 1]).is_err());
        let mut long = good.clone();
        long.push(0);
        assert!(load_legacy_state_dict(&long).is_err());
    }

    #[test]
    fn contiguity_and_gather() {
        assert!(is_contiguous(&[2, 3], &[3, 1]));
        assert!(is_contiguous(&[1, 3], &[99, 1]));
        assert!(!is_contiguous(&[3, 2], &[1, 3]));
        let storage: Vec<f32> = (0..24).map(|i| i as f32).collect();
        // A (2, 2) view with strides (12, 2) starting at 1.
        assert_eq!(
            gather(&storage, 1, &[2, 2], &[12, 2]).unwrap(),
            [1., 3., 13., 15.]
        );
        assert_eq!(
            gather(&storage, 0, &[0, 5], &[5, 1]).unwrap(),
            Vec::<f32>::new()
        );
        assert!(gather(&storage, 0, &[2, 2], &[12, 12]).is_err());
    }
}
