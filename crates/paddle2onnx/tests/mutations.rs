//! Hostile and damaged inputs: a deterministic mutation run over real
//! programs and weights files (the fixtures in `tests/data/paddle`). Every
//! mutant must convert or fail with an error, never panic. More cases with
//! `PADDLE2ONNX_MUTATIONS=<n>`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/paddle")
        .join(name)
}

/// A small deterministic generator (64-bit LCG, top bits).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn cases() -> usize {
    std::env::var("PADDLE2ONNX_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150)
}

const NUMBERS: [f64; 12] = [
    0.0,
    -1.0,
    1.0,
    2.0,
    7.0,
    -7.0,
    2147483647.0,
    -2147483648.0,
    1099511627776.0,
    -1099511627776.0,
    4.6e18,
    0.5,
];
const NAMES: [&str; 12] = [
    "1.conv2d",
    "1.pool2d",
    "1.reshape",
    "1.concat",
    "1.split",
    "1.slice",
    "1.full",
    "p",
    "0.combine",
    "0.split",
    "1.transpose",
    "1.layer_norm",
];

/// Visits every number and string in `v`.
fn leaves<'a>(v: &'a mut Value, out: &mut Vec<&'a mut Value>) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(|i| leaves(i, out)),
        Value::Object(map) => map.values_mut().for_each(|i| leaves(i, out)),
        Value::Number(_) | Value::String(_) | Value::Bool(_) => out.push(v),
        Value::Null => {}
    }
}

fn mutate_program(base: &Value, rng: &mut Rng) -> Vec<u8> {
    let mut v = base.clone();
    let mut spots = Vec::new();
    leaves(&mut v, &mut spots);
    for _ in 0..1 + rng.below(4) {
        let i = rng.below(spots.len());
        let spot = &mut spots[i];
        **spot = match (&**spot, rng.below(3)) {
            (Value::String(_), 0) => Value::String(NAMES[rng.below(NAMES.len())].into()),
            (Value::String(_), 1) => Value::String(String::new()),
            (_, 2) => Value::Null,
            _ => {
                let n = NUMBERS[rng.below(NUMBERS.len())];
                if n.fract() == 0.0 && n.abs() < 9e15 {
                    Value::from(n as i64)
                } else {
                    Value::from(n)
                }
            }
        };
    }
    serde_json::to_vec(&v).unwrap()
}

fn convert(dir: &Path) -> Result<(), String> {
    let mut out = Vec::new();
    match catch_unwind(AssertUnwindSafe(|| {
        paddle2onnx::convert_dir(dir, &paddle2onnx::Options::default(), &mut out)
    })) {
        Ok(_) => Ok(()),
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()),
    }
}

#[test]
fn mutated_programs_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = Rng(7);
    let mut panics = Vec::new();
    for name in ["traps_p33", "swin_p30", "mobilenetv4_hybrid_p33"] {
        let src = fixture(name);
        let text = std::fs::read(src.join("inference.json")).unwrap();
        let base: Value = serde_json::from_slice(&text).unwrap();
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(
            src.join("inference.pdiparams"),
            dir.join("inference.pdiparams"),
        )
        .unwrap();
        for case in 0..cases() {
            let mutant = if case % 10 == 9 {
                // Truncated text.
                text[..rng.below(text.len())].to_vec()
            } else {
                mutate_program(&base, &mut rng)
            };
            std::fs::write(dir.join("inference.json"), &mutant).unwrap();
            if let Err(message) = convert(&dir) {
                let keep = tmp.path().join(format!("panic-{name}-{case}.json"));
                std::fs::write(&keep, &mutant).unwrap();
                panics.push(format!("{name} case {case}: {message}"));
            }
        }
    }
    assert!(panics.is_empty(), "{panics:#?}");
}

#[test]
fn mutated_weights_and_legacy_programs_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = Rng(11);
    let mut panics = Vec::new();
    for (name, program) in [
        ("pplcnet_p30", "inference.json"),
        ("ch_ppocr_cls_legacy", "inference.pdmodel"),
    ] {
        let src = fixture(name);
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let prog = std::fs::read(src.join(program)).unwrap();
        let params = std::fs::read(src.join("inference.pdiparams")).unwrap();
        for case in 0..cases() {
            let (mut p, mut w) = (prog.clone(), params.clone());
            let target = if case % 2 == 0 && program.ends_with("pdmodel") {
                &mut p
            } else {
                &mut w
            };
            match rng.below(3) {
                0 => target.truncate(rng.below(target.len())),
                1 => {
                    // Flip bytes near the front (headers, descriptors, first ops).
                    for _ in 0..1 + rng.below(8) {
                        let i = rng.below(target.len().min(4096));
                        target[i] ^= 1 << rng.below(8);
                    }
                }
                _ => {
                    // Overwrite a little-endian length field with a huge value.
                    let i = rng.below(target.len().saturating_sub(8));
                    target[i..i + 8].copy_from_slice(&(u64::MAX >> rng.below(40)).to_le_bytes());
                }
            }
            std::fs::write(dir.join(program), &p).unwrap();
            std::fs::write(dir.join("inference.pdiparams"), &w).unwrap();
            if let Err(message) = convert(&dir) {
                panics.push(format!("{name} case {case}: {message}"));
            }
        }
    }
    assert!(panics.is_empty(), "{panics:#?}");
}
