//! PaddleX's high-performance inference settings: `--use_hpip`,
//! `--hpi_config "{'backend': ..., 'backend_config': {...}}"` (a Python
//! literal, as PaddleX parses it with `ast.literal_eval`) and the pipeline
//! YAML's `hpi_config`.

use serde_json::{Map, Value};

/// A parsed `hpi_config`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HpiConfig {
    /// `backend`: onnxruntime, tensorrt, openvino, paddle, om; `None` = automatic.
    pub backend: Option<String>,
    /// `backend_config`.
    pub backend_config: Map<String, Value>,
}

/// Why an HPI setting is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HpiError {
    /// The literal does not parse.
    #[error("invalid --hpi_config: {0}")]
    Syntax(String),
    /// Wrong shape or value.
    #[error("invalid hpi_config: {0}")]
    Invalid(String),
}

impl HpiConfig {
    /// Builds the config from the YAML value (if any) with the CLI literal merged over it.
    pub fn resolve(yaml: Option<&serde_yaml::Value>, cli: Option<&str>) -> Result<Self, HpiError> {
        let mut merged = Map::new();
        if let Some(yaml) = yaml.filter(|v| !v.is_null()) {
            let value = serde_json::to_value(yaml).map_err(|e| HpiError::Invalid(e.to_string()))?;
            merge(&mut merged, as_object(value)?);
        }
        if let Some(text) = cli {
            merge(&mut merged, as_object(parse_python_literal(text)?)?);
        }
        let backend = match merged.get("backend") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.to_ascii_lowercase()),
            Some(other) => {
                return Err(HpiError::Invalid(format!(
                    "backend must be a string, got {other}"
                )))
            }
        };
        let backend_config = match merged.get("backend_config") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(other) => {
                return Err(HpiError::Invalid(format!(
                    "backend_config must be a dict, got {other}"
                )))
            }
        };
        Ok(HpiConfig {
            backend,
            backend_config,
        })
    }

    /// An integer setting of `backend_config`.
    pub(crate) fn int(&self, key: &str) -> Option<i64> {
        self.backend_config.get(key).and_then(Value::as_i64)
    }

    /// A string setting of `backend_config`.
    pub(crate) fn string(&self, key: &str) -> Option<&str> {
        self.backend_config.get(key).and_then(Value::as_str)
    }

    /// TensorRT's shapes: `backend_config.dynamic_shapes` (PaddleX's
    /// `{x: [[min], [opt], [max]]}`), else the model's `inference.yml` `Hpi`
    /// section (`backend_configs.tensorrt.dynamic_shapes`, then
    /// `backend_configs.paddle_infer.trt_dynamic_shapes`). `None` when
    /// neither gives any: ONNX Runtime then builds the engine for the
    /// shapes it meets (one, as batches are padded to one shape).
    pub(crate) fn profile_shapes(
        &self,
        hpi_info: Option<&serde_yaml::Value>,
    ) -> Result<Option<ProfileShapes>, HpiError> {
        if let Some(shapes) = self.backend_config.get("dynamic_shapes") {
            return profile_from(shapes).map(Some);
        }
        let Some(info) = hpi_info else {
            return Ok(None);
        };
        let info = serde_json::to_value(info).map_err(|e| HpiError::Invalid(e.to_string()))?;
        let configs = &info["backend_configs"];
        for shapes in [
            &configs["tensorrt"]["dynamic_shapes"],
            &configs["paddle_infer"]["trt_dynamic_shapes"],
        ] {
            if !shapes.is_null() {
                return profile_from(shapes).map(Some);
            }
        }
        Ok(None)
    }
}

/// TensorRT optimisation profile shapes, in ONNX Runtime's option format
/// (`x:1x3x224x224`, inputs comma-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileShapes {
    /// Smallest shapes.
    pub min: String,
    /// Shapes TensorRT optimises for.
    pub opt: String,
    /// Largest shapes.
    pub max: String,
}

/// `{name: [[min dims], [opt dims], [max dims]]}` → ONNX Runtime's strings.
fn profile_from(shapes: &Value) -> Result<ProfileShapes, HpiError> {
    let bad = || {
        HpiError::Invalid(format!(
            "dynamic_shapes must be {{input: [[min], [opt], [max]]}} with positive integer dims, got {shapes}"
        ))
    };
    let inputs = shapes
        .as_object()
        .filter(|m| !m.is_empty())
        .ok_or_else(bad)?;
    let mut levels: [Vec<String>; 3] = Default::default();
    for (name, triple) in inputs {
        let triple = triple.as_array().filter(|t| t.len() == 3).ok_or_else(bad)?;
        for (level, dims) in levels.iter_mut().zip(triple) {
            let dims = dims
                .as_array()
                .filter(|d| !d.is_empty())
                .ok_or_else(bad)?
                .iter()
                .map(|d| d.as_u64().filter(|&n| n > 0).map(|n| n.to_string()))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(bad)?;
            level.push(format!("{name}:{}", dims.join("x")));
        }
    }
    let [min, opt, max] = levels.map(|l| l.join(","));
    Ok(ProfileShapes { min, opt, max })
}

fn as_object(value: Value) -> Result<Map<String, Value>, HpiError> {
    match value {
        Value::Object(m) => Ok(m),
        other => Err(HpiError::Invalid(format!("expected a dict, got {other}"))),
    }
}

/// Dict values merge key by key (nested dicts too); other values replace.
fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(a)), Value::Object(b)) => merge(a, b),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// Parses a Python literal (dict, list, tuple, str, int, float, True,
/// False, None) into JSON.
pub fn parse_python_literal(text: &str) -> Result<Value, HpiError> {
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
        depth: 0,
    };
    let value = p.value()?;
    p.skip_ws();
    if p.pos != p.chars.len() {
        return Err(p.error("unexpected trailing characters"));
    }
    Ok(value)
}

/// The deepest nesting of dicts, lists and tuples accepted (the parser
/// recurses once per level; a deeper literal would overflow the stack).
const MAX_DEPTH: usize = 100;

struct Parser {
    chars: Vec<char>,
    pos: usize,
    /// Containers open at `pos`.
    depth: usize,
}

impl Parser {
    fn error(&self, what: &str) -> HpiError {
        HpiError::Syntax(format!("{what} at character {}", self.pos))
    }

    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.chars.get(self.pos).copied()
    }

    fn expect(&mut self, c: char) -> Result<(), HpiError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected `{c}`")))
        }
    }

    fn value(&mut self) -> Result<Value, HpiError> {
        match self.peek() {
            Some('{') => self.nested(Self::dict),
            Some('[') => self.nested(|p| p.sequence('[', ']')),
            Some('(') => self.nested(|p| p.sequence('(', ')')),
            Some('\'' | '"') => self.string().map(Value::String),
            Some(c) if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => self.number(),
            Some(c) if c.is_ascii_alphabetic() => self.word(),
            _ => Err(self.error("expected a value")),
        }
    }

    /// Parses a container one level deeper, refusing more than [`MAX_DEPTH`].
    fn nested(
        &mut self,
        parse: impl FnOnce(&mut Self) -> Result<Value, HpiError>,
    ) -> Result<Value, HpiError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(&format!("nested more than {MAX_DEPTH} levels deep")));
        }
        self.depth += 1;
        let value = parse(self);
        self.depth -= 1;
        value
    }

    fn dict(&mut self) -> Result<Value, HpiError> {
        self.expect('{')?;
        let mut map = Map::new();
        while self.peek() != Some('}') {
            let key = match self.value()? {
                Value::String(s) => s,
                other => other.to_string(),
            };
            self.expect(':')?;
            let value = self.value()?;
            map.insert(key, value);
            if self.peek() == Some(',') {
                self.pos += 1;
            } else {
                break;
            }
        }
        self.expect('}')?;
        Ok(Value::Object(map))
    }

    fn sequence(&mut self, open: char, close: char) -> Result<Value, HpiError> {
        self.expect(open)?;
        let mut items = Vec::new();
        while self.peek() != Some(close) {
            items.push(self.value()?);
            if self.peek() == Some(',') {
                self.pos += 1;
            } else {
                break;
            }
        }
        self.expect(close)?;
        Ok(Value::Array(items))
    }

    fn string(&mut self) -> Result<String, HpiError> {
        let quote = self.chars[self.pos];
        self.pos += 1;
        let mut out = String::new();
        while let Some(&c) = self.chars.get(self.pos) {
            self.pos += 1;
            match c {
                c if c == quote => return Ok(out),
                '\\' => {
                    let escaped = self
                        .chars
                        .get(self.pos)
                        .copied()
                        .ok_or_else(|| self.error("unterminated string"))?;
                    self.pos += 1;
                    out.push(match escaped {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                }
                c => out.push(c),
            }
        }
        Err(self.error("unterminated string"))
    }

    fn number(&mut self) -> Result<Value, HpiError> {
        let start = self.pos;
        while self
            .chars
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'))
        {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos]
            .iter()
            .filter(|c| **c != '_')
            .collect();
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::from(i));
        }
        text.parse::<f64>()
            .map(Value::from)
            .map_err(|_| self.error(&format!("bad number `{text}`")))
    }

    fn word(&mut self) -> Result<Value, HpiError> {
        let start = self.pos;
        while self
            .chars
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
        {
            self.pos += 1;
        }
        let word: String = self.chars[start..self.pos].iter().collect();
        match word.as_str() {
            "True" => Ok(Value::Bool(true)),
            "False" => Ok(Value::Bool(false)),
            "None" => Ok(Value::Null),
            other => Err(self.error(&format!("`{other}` is not a literal (quote strings)"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_python_literals() {
        let v = parse_python_literal("{'backend': 'tensorrt', 'backend_config': {'precision': \"fp16\", 'shapes': [(1, 3), [2]], 'n': -4, 'x': 1.5, 'on': True, 'off': None}}").unwrap();
        assert_eq!(v["backend"], "tensorrt");
        assert_eq!(v["backend_config"]["precision"], "fp16");
        assert_eq!(
            v["backend_config"]["shapes"],
            serde_json::json!([[1, 3], [2]])
        );
        assert_eq!(v["backend_config"]["n"], -4);
        assert_eq!(v["backend_config"]["x"], 1.5);
        assert_eq!(v["backend_config"]["on"], true);
        assert_eq!(v["backend_config"]["off"], Value::Null);
        assert!(parse_python_literal("{'a': os.system('x')}").is_err());
        assert!(parse_python_literal("{'a': 1").is_err());
        assert!(parse_python_literal("{'a': 1} extra").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let ok = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_python_literal(&ok).is_ok());
        let deep = format!(
            "{}1{}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        let err = parse_python_literal(&deep).unwrap_err();
        assert!(
            err.to_string().contains("nested more than 100 levels"),
            "{err}"
        );
        // Far deeper than a thread's stack allows without the limit.
        let hostile = "{'a': (".repeat(1_000_000);
        assert!(parse_python_literal(&hostile).is_err());
    }

    #[test]
    fn cli_merges_over_yaml() {
        let yaml: serde_yaml::Value = serde_yaml::from_str("backend: onnxruntime\nbackend_config:\n  cpu_num_threads: 4\n  graph_optimization_level: 1\n").unwrap();
        let cfg = HpiConfig::resolve(
            Some(&yaml),
            Some("{'backend_config': {'cpu_num_threads': 1}}"),
        )
        .unwrap();
        assert_eq!(cfg.backend.as_deref(), Some("onnxruntime"));
        assert_eq!(cfg.int("cpu_num_threads"), Some(1));
        assert_eq!(cfg.int("graph_optimization_level"), Some(1));
        assert_eq!(
            HpiConfig::resolve(None, None).unwrap(),
            HpiConfig::default()
        );
        assert!(HpiConfig::resolve(None, Some("[1]")).is_err());
    }

    #[test]
    fn tensorrt_shapes_from_the_config_then_the_model() {
        let yml: serde_yaml::Value = serde_yaml::from_str(
            "backend_configs:\n  paddle_infer:\n    trt_dynamic_shapes:\n      x: [[1, 3, 224, 224], [4, 3, 224, 224], [8, 3, 224, 224]]\n",
        )
        .unwrap();
        let from_model = HpiConfig::default().profile_shapes(Some(&yml)).unwrap();
        assert_eq!(
            from_model,
            Some(ProfileShapes {
                min: "x:1x3x224x224".into(),
                opt: "x:4x3x224x224".into(),
                max: "x:8x3x224x224".into(),
            })
        );
        let cli = HpiConfig::resolve(
            None,
            Some("{'backend': 'tensorrt', 'backend_config': {'dynamic_shapes': {'x': [[1, 3, 224, 224], [2, 3, 224, 224], [2, 3, 224, 224]]}}}"),
        )
        .unwrap();
        let shapes = cli.profile_shapes(Some(&yml)).unwrap().unwrap();
        assert_eq!(
            shapes.opt, "x:2x3x224x224",
            "the config wins over the model"
        );
        assert_eq!(HpiConfig::default().profile_shapes(None).unwrap(), None);
        let bad = HpiConfig::resolve(
            None,
            Some("{'backend_config': {'dynamic_shapes': {'x': [[1, 3], [0, 3]]}}}"),
        )
        .unwrap();
        let err = bad.profile_shapes(None).unwrap_err().to_string();
        assert!(err.contains("dynamic_shapes must be"), "{err}");
    }
}
