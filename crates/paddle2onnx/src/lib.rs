//! Converts Paddle inference models to ONNX, in Rust, without Paddle or
//! Python.
//!
//! A Paddle inference model is a program file, either Paddle 3's PIR JSON
//! (`inference.json`) or the legacy ProgramDesc protobuf
//! (`inference.pdmodel`, Paddle 2.x), plus the weights (`inference.pdiparams`).
//! [`convert_dir`] reads both and writes an ONNX model whose input and output
//! names are the program's, with a dynamic batch dimension and the weights as
//! initializers.
//!
//! ```no_run
//! let mut onnx = Vec::new();
//! let summary = paddle2onnx::convert_dir(
//!     std::path::Path::new("ResNet50_infer"),
//!     &paddle2onnx::Options::default(),
//!     &mut onnx,
//! )?;
//! println!("{} operators, inputs {:?}", summary.operators, summary.inputs);
//! # Ok::<(), paddle2onnx::Error>(())
//! ```
//!
//! What is translated: the operators of PaddleX's image classifiers (CNNs
//! such as PP-LCNet, PP-HGNetV2, ResNet, MobileNet, and transformers such as
//! Swin, ConvNeXt and CLIP ViT). Anything else, an operator or an attribute
//! value this crate has no exact translation for, is an [`Error`] naming the
//! operator and the file: a model is never converted approximately.
//!
//! The pieces: [`program`] (the common view of a program), [`pir`] and
//! [`legacy`] (the two program readers), [`params`] (the weights file),
//! `emit` (the operator translations) and [`onnx`] (the ONNX writer).

mod emit;
pub mod error;
pub mod legacy;
pub mod onnx;
pub mod params;
pub mod pir;
pub mod program;

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

pub use error::{Error, ErrorKind};
use onnx::GraphBuilder;
pub use program::Program;

/// The opset written unless asked otherwise.
pub const DEFAULT_OPSET: i64 = 17;
/// The opsets this converter writes.
pub const OPSETS: std::ops::RangeInclusive<i64> = 13..=21;

/// Conversion settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// ONNX opset of the default domain ([`OPSETS`]).
    pub opset: i64,
    /// `metadata_props` of the model (e.g. `labels`).
    pub metadata: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            opset: DEFAULT_OPSET,
            metadata: Vec::new(),
        }
    }
}

/// What a conversion produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The program file read.
    pub program: PathBuf,
    /// Graph input names.
    pub inputs: Vec<String>,
    /// Graph output names.
    pub outputs: Vec<String>,
    /// Paddle operators translated (parameters not counted).
    pub operators: usize,
    /// Bytes of weights written.
    pub weight_bytes: u64,
}

/// The program and weights files of a model directory: `inference.json`
/// (preferred, as PaddleX does) or `inference.pdmodel`, and
/// `inference.pdiparams` (which Paddle does not write for a program without
/// parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFiles {
    /// The program file.
    pub program: PathBuf,
    /// The weights file.
    pub params: PathBuf,
}

impl ModelFiles {
    /// Finds the files in `dir`; `None` when it holds no Paddle model.
    pub fn find(dir: &Path) -> Option<ModelFiles> {
        let params = dir.join("inference.pdiparams");
        ["inference.json", "inference.pdmodel"]
            .iter()
            .map(|name| dir.join(name))
            .find(|p| p.is_file())
            .map(|program| ModelFiles { program, params })
    }
}

/// Reads a program file (`.json` as PIR, anything else as a legacy
/// ProgramDesc).
pub fn read_program(path: &Path) -> Result<Program, Error> {
    let bytes = read_capped(path, pir::MAX_PROGRAM_BYTES)?;
    let is_json = path.extension().is_some_and(|e| e == "json")
        || bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if is_json {
        pir::read_pir(&bytes)
    } else {
        legacy::read_legacy(&bytes)
    }
    .map_err(|e| Error::in_file(path, e))
}

fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, Error> {
    let file = File::open(path).map_err(|e| Error::in_file(path, e))?;
    let len = file.metadata().map_err(|e| Error::in_file(path, e))?.len();
    if len > cap {
        return Err(Error::in_file(
            path,
            ErrorKind::Program(format!("{len} bytes is larger than any inference program")),
        ));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(cap)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::in_file(path, e))?;
    Ok(bytes)
}

/// Converts the model in `dir` (see [`ModelFiles::find`]), writing the ONNX
/// model to `out`.
pub fn convert_dir(dir: &Path, options: &Options, out: &mut impl Write) -> Result<Summary, Error> {
    let files = ModelFiles::find(dir).ok_or_else(|| {
        Error::in_file(
            dir,
            ErrorKind::Program(
                "no Paddle model here (inference.json or inference.pdmodel, with inference.pdiparams)"
                    .into(),
            ),
        )
    })?;
    convert_files(&files, options, out)
}

/// Converts a program and its weights, writing the ONNX model to `out`.
pub fn convert_files(
    files: &ModelFiles,
    options: &Options,
    out: &mut impl Write,
) -> Result<Summary, Error> {
    if !OPSETS.contains(&options.opset) {
        return Err(ErrorKind::Unsupported(format!(
            "opset {} is not supported (this converter writes opsets {} to {})",
            options.opset,
            OPSETS.start(),
            OPSETS.end()
        ))
        .into());
    }
    let program = read_program(&files.program)?;
    let name = files
        .program
        .parent()
        .and_then(Path::file_name)
        .map_or_else(|| "paddle".to_owned(), |n| n.to_string_lossy().into_owned());
    let mut g = GraphBuilder::new(&name);
    let weight_bytes = load_params(&program, &files.params, &mut g)?;
    let inputs = program
        .ops
        .iter()
        .filter(|op| op.kind == "data")
        .filter_map(|op| op.str("name").ok().map(str::to_owned))
        .collect();
    let mut fetches: Vec<(i64, String)> = program
        .ops
        .iter()
        .filter(|op| op.kind == "fetch")
        .filter_map(|op| Some((op.int("col").unwrap_or(0), op.str("name").ok()?.to_owned())))
        .collect();
    fetches.sort();
    let g = emit::Emitter::new(&program, g, options.opset)
        .run()
        .map_err(|e| Error::in_file(&files.program, e))?;
    let metadata: Vec<(&str, &str)> = options
        .metadata
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    g.write_to(options.opset, &metadata, out)
        .map_err(|e| Error::in_file(&files.program, ErrorKind::from(e)))?;
    Ok(Summary {
        program: files.program.clone(),
        inputs,
        outputs: fetches.into_iter().map(|(_, n)| n).collect(),
        operators: program.ops.len(),
        weight_bytes,
    })
}

/// Reads every parameter, in file order, and adds those the program reads
/// as initializers.
fn load_params(program: &Program, path: &Path, g: &mut GraphBuilder) -> Result<u64, Error> {
    if program.params.is_empty() && !path.exists() {
        return Ok(0);
    }
    let file = File::open(path).map_err(|e| Error::in_file(path, e))?;
    let len = file.metadata().map_err(|e| Error::in_file(path, e))?.len();
    let used: HashSet<i64> = program
        .ops
        .iter()
        .flat_map(|op| op.inputs.iter().copied())
        .collect();
    let mut reader = params::ParamReader::new(BufReader::with_capacity(1 << 20, file), len);
    let mut total = 0;
    for param in &program.params {
        let raw = reader.read(param).map_err(|e| Error::in_file(path, e))?;
        if used.contains(&param.value) {
            total += raw.len() as u64;
            let elem = param.dtype.onnx().map_err(|e| Error::in_file(path, e))?;
            g.initializer_raw(&param.name, &param.dims, elem, raw);
        }
    }
    reader.finish().map_err(|e| Error::in_file(path, e))?;
    Ok(total)
}
