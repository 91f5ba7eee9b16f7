//! `inference.yml`: the model's preprocessing and post-processing, in the
//! schema PaddleClas writes (`Global`, `PreProcess.transform_ops`, `PostProcess.Topk`).

use std::path::Path;

use serde::Deserialize;
use serde_yaml::Value;

/// One `transform_ops` entry: the operator name and its arguments (a map, or null).
#[derive(Debug, Clone, PartialEq)]
pub struct TransformOp {
    /// e.g. `ResizeImage`.
    pub name: String,
    /// The argument map; `Value::Null` means no arguments.
    pub args: Value,
}

/// The parts of `inference.yml` the classifier uses.
#[derive(Debug, Clone, PartialEq)]
pub struct InferenceConfig {
    /// `Global.model_name`.
    pub model_name: Option<String>,
    /// `PreProcess.transform_ops`, in file order.
    pub transform_ops: Vec<TransformOp>,
    /// `PostProcess.Topk.topk`.
    pub topk: Option<i64>,
    /// `PostProcess.Topk.label_list`, as Python's `str()` of each entry.
    pub label_list: Option<Vec<String>>,
    /// The `Hpi` section (read by the TensorRT backend for its shapes).
    pub hpi: Option<Value>,
}

/// Why an `inference.yml` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum InferConfigError {
    /// Unreadable file.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Malformed YAML or schema.
    #[error("invalid {path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "Global")]
    global: Option<RawGlobal>,
    #[serde(rename = "PreProcess")]
    pre_process: Option<RawPreProcess>,
    #[serde(rename = "PostProcess")]
    post_process: Option<RawPostProcess>,
    #[serde(rename = "Hpi")]
    hpi: Option<Value>,
}

#[derive(Deserialize)]
struct RawGlobal {
    model_name: Option<String>,
}

#[derive(Deserialize)]
struct RawPreProcess {
    transform_ops: Option<Vec<Value>>,
}

#[derive(Deserialize)]
struct RawPostProcess {
    #[serde(rename = "Topk")]
    topk: Option<RawTopk>,
}

#[derive(Deserialize)]
struct RawTopk {
    topk: Option<i64>,
    label_list: Option<Vec<Value>>,
}

impl InferenceConfig {
    /// Reads and parses `path`.
    pub(crate) fn load(path: &Path) -> Result<Self, InferConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| InferConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses YAML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, InferConfigError> {
        let invalid = |message: String| InferConfigError::Invalid {
            path: origin.to_string(),
            message,
        };
        let raw: Raw = serde_yaml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let ops = raw
            .pre_process
            .and_then(|p| p.transform_ops)
            .unwrap_or_default()
            .into_iter()
            .map(|entry| parse_op(entry).map_err(&invalid))
            .collect::<Result<Vec<_>, _>>()?;
        let topk = raw.post_process.and_then(|p| p.topk);
        let (k, labels) = match topk {
            Some(t) => (
                t.topk,
                t.label_list.map(|l| l.iter().map(python_str).collect()),
            ),
            None => (None, None),
        };
        Ok(InferenceConfig {
            model_name: raw.global.and_then(|g| g.model_name),
            transform_ops: ops,
            topk: k,
            label_list: labels,
            hpi: raw.hpi,
        })
    }
}

fn parse_op(entry: Value) -> Result<TransformOp, String> {
    let Value::Mapping(map) = entry else {
        return Err("each transform_ops entry must be a one-key map".into());
    };
    if map.len() != 1 {
        return Err(format!(
            "a transform_ops entry has {} keys, expected 1",
            map.len()
        ));
    }
    let (key, args) = map.into_iter().next().ok_or("empty transform_ops entry")?;
    let name = key
        .as_str()
        .ok_or("transform_ops keys must be strings")?
        .to_string();
    Ok(TransformOp { name, args })
}

/// What Python's `str()` gives for a YAML scalar (labels may be written as numbers).
fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => crate::pyfmt::float::repr_f64(f),
            _ => n.to_string(),
        },
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC_ORI: &str = "Global:\n  model_name: PP-LCNet_x1_0_doc_ori\nPreProcess:\n  transform_ops:\n  - ResizeImage:\n      resize_short: 256\n  - CropImage:\n      size: 224\n  - NormalizeImage:\n      channel_num: 3\n      mean: [0.485, 0.456, 0.406]\n      order: ''\n      scale: 0.00392156862745098\n      std: [0.229, 0.224, 0.225]\n  - ToCHWImage: null\nPostProcess:\n  Topk:\n    topk: 1\n    label_list:\n    - '0'\n    - '90'\n    - 180\n    - 270\n";

    #[test]
    fn parses_the_paddleclas_schema() {
        let cfg = InferenceConfig::parse(DOC_ORI, "t").unwrap();
        assert_eq!(cfg.model_name.as_deref(), Some("PP-LCNet_x1_0_doc_ori"));
        let names: Vec<_> = cfg.transform_ops.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(
            names,
            ["ResizeImage", "CropImage", "NormalizeImage", "ToCHWImage"]
        );
        assert_eq!(cfg.transform_ops[3].args, Value::Null);
        assert_eq!(cfg.topk, Some(1));
        assert_eq!(cfg.label_list.unwrap(), ["0", "90", "180", "270"]);
    }

    #[test]
    fn missing_sections_are_none() {
        let cfg = InferenceConfig::parse("Global:\n  model_name: m\n", "t").unwrap();
        assert!(cfg.transform_ops.is_empty());
        assert_eq!(cfg.topk, None);
        assert_eq!(cfg.label_list, None);
    }

    #[test]
    fn malformed_ops_are_errors() {
        let err = InferenceConfig::parse("PreProcess:\n  transform_ops:\n  - 3\n", "inf.yml")
            .unwrap_err();
        assert!(err.to_string().starts_with("invalid inf.yml"));
    }
}
