//! Reads Paddle 3's PIR program files (`inference.json`) into a [`Program`].
//!
//! The layout (Paddle's `serialize_deserialize`): `base_code` with the magic
//! `"pir"` and a writer version, then one region whose first block lists the
//! operators. Operator names come compressed (`1.conv2d`, `0.combine`, `p`
//! for a parameter) or in full (`pd_op.conv2d`); value ids under `%` (older
//! writers: `#`). Attribute values are read by value, whatever their tag.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::error::ErrorKind;
use crate::program::{AttrValue, DType, Op, Parameter, Program, SourceFormat, ValueId, ValueType};

/// The largest program file read (the biggest PaddleX classifier's is a few MB).
pub const MAX_PROGRAM_BYTES: u64 = 256 << 20;

fn bad(message: impl Into<String>) -> ErrorKind {
    ErrorKind::Program(message.into())
}

/// Parses a PIR JSON program.
pub fn read_pir(json: &[u8]) -> Result<Program, ErrorKind> {
    let root: Value =
        serde_json::from_slice(json).map_err(|e| bad(format!("not a PIR JSON program: {e}")))?;
    let base = root
        .get("base_code")
        .ok_or_else(|| bad("not a PIR JSON program: no `base_code`"))?;
    if base.get("magic").and_then(Value::as_str) != Some("pir") {
        return Err(bad(
            "not a PIR JSON program: `base_code.magic` is not \"pir\"",
        ));
    }
    let version = base.get("version").and_then(Value::as_u64).unwrap_or(0);
    let regions = root
        .pointer("/program/regions")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no `program.regions`"))?;
    if regions.len() != 1 {
        return Err(bad(format!(
            "the program has {} top-level regions, expected one",
            regions.len()
        )));
    }
    let ops = regions[0]
        .pointer("/blocks/0/ops")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("the program's region has no block of operators"))?;

    let mut program = Program {
        ops: Vec::with_capacity(ops.len()),
        types: HashMap::new(),
        params: Vec::new(),
        format: SourceFormat::Pir(version),
    };
    let mut param_names = HashSet::new();
    for (index, op) in ops.iter().enumerate() {
        let name = op
            .get("#")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("operator #{index} has no name")))?;
        if name == "p" || name == "builtin.parameter" {
            read_parameter(op, index, &mut program, &mut param_names)?;
            continue;
        }
        let kind = op_kind(name)?;
        if op
            .get("regions")
            .and_then(Value::as_array)
            .is_some_and(|r| !r.is_empty())
        {
            return Err(ErrorKind::Unsupported(format!(
                "operator `{name}` has sub-regions (control flow), which classifiers do not use"
            )));
        }
        let inputs = match op.get("I") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(value_id)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad(format!("operator #{index} `{name}`: bad operand list")))?,
            Some(_) => return Err(bad(format!("operator #{index} `{name}`: bad operand list"))),
        };
        let results: Vec<&Value> = match op.get("O") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            Some(_) => return Err(bad(format!("operator #{index} `{name}`: bad result list"))),
        };
        let mut outputs = Vec::with_capacity(results.len());
        for result in results {
            let id = value_id(result)
                .ok_or_else(|| bad(format!("operator #{index} `{name}`: a result has no id")))?;
            if id != 0 {
                let ty = result.get("TT").map(read_type).transpose()?;
                if program
                    .types
                    .insert(id, ty.unwrap_or(ValueType::Null))
                    .is_some()
                {
                    return Err(bad(format!("value %{id} is defined twice")));
                }
            }
            outputs.push(id);
        }
        let attrs = match op.get("A") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|a| {
                    let n = a.get("N")?.as_str()?;
                    Some((n, a.get("AT")?))
                })
                .filter(|(n, _)| {
                    !matches!(
                        *n,
                        "struct_name" | "op_callstack" | "op_role" | "op_namescope"
                    )
                })
                .map(|(n, v)| Ok((n.to_owned(), read_attr(v)?)))
                .collect::<Result<Vec<_>, ErrorKind>>()?,
            Some(_) => {
                return Err(bad(format!(
                    "operator #{index} `{name}`: bad attribute list"
                )))
            }
        };
        program.ops.push(Op {
            kind,
            inputs,
            outputs,
            attrs,
        });
    }
    // The parameters file lists persistable parameters sorted byte-wise by name.
    program
        .params
        .sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    Ok(program)
}

/// `1.conv2d` / `pd_op.conv2d` → `conv2d`; `0.combine` / `builtin.combine`
/// → `builtin.combine`.
fn op_kind(name: &str) -> Result<String, ErrorKind> {
    let (dialect, op) = name
        .split_once('.')
        .ok_or_else(|| bad(format!("operator name `{name}` has no dialect")))?;
    match dialect {
        "1" | "pd_op" => Ok(op.to_owned()),
        "0" | "builtin" => Ok(format!("builtin.{op}")),
        "2" | "cf" => Ok(format!("cf.{op}")),
        "3" | "custom_op" => Ok(format!("custom_op.{op}")),
        "4" | "dist_op" | "dist" => Ok(format!("dist_op.{op}")),
        _ => Err(bad(format!(
            "operator `{name}`: unknown dialect `{dialect}`"
        ))),
    }
}

fn value_id(v: &Value) -> Option<ValueId> {
    v.get("%").or_else(|| v.get("#")).and_then(Value::as_i64)
}

fn read_parameter(
    op: &Value,
    index: usize,
    program: &mut Program,
    seen: &mut HashSet<String>,
) -> Result<(), ErrorKind> {
    let attrs = op
        .get("A")
        .and_then(Value::as_array)
        .ok_or_else(|| bad(format!("parameter #{index} has no attributes")))?;
    let name = attrs
        .last()
        .and_then(Value::as_str)
        .or_else(|| {
            // Uncompressed form: {"N":"parameter_name","AT":{...}}.
            attrs.iter().find_map(|a| {
                (a.get("N")?.as_str()? == "parameter_name")
                    .then(|| a.pointer("/AT/D")?.as_str())
                    .flatten()
            })
        })
        .ok_or_else(|| bad(format!("parameter #{index} has no name")))?;
    let result = match op.get("O") {
        Some(Value::Array(items)) => items.first(),
        other => other,
    }
    .ok_or_else(|| bad(format!("parameter `{name}` has no result")))?;
    let id = value_id(result).ok_or_else(|| bad(format!("parameter `{name}` has no id")))?;
    let ty = read_type(
        result
            .get("TT")
            .ok_or_else(|| bad(format!("parameter `{name}` has no type")))?,
    )?;
    let ValueType::Tensor { dtype, dims } = &ty else {
        return Err(bad(format!("parameter `{name}` is not a tensor")));
    };
    if dims.iter().any(|&d| d < 0) {
        return Err(bad(format!("parameter `{name}` has dynamic dims {dims:?}")));
    }
    // OA = [persistable, stop_gradient, trainable]; absent when not trainable.
    let persistable = match op
        .get("OA")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        Some(v) => v
            .as_i64()
            .map(|p| p != 0)
            .or_else(|| v.as_bool())
            .unwrap_or(true),
        None => true,
    };
    if persistable && seen.insert(name.to_owned()) {
        program.params.push(Parameter {
            name: name.to_owned(),
            value: id,
            dtype: *dtype,
            dims: dims.clone(),
        });
    } else if persistable {
        // The same parameter read through a second value: alias it.
        if let Some(first) = program.params.iter().find(|p| p.name == name) {
            let first = first.value;
            program.ops.push(Op {
                kind: "assign".into(),
                inputs: vec![first],
                outputs: vec![id],
                attrs: Vec::new(),
            });
        }
    } else {
        return Err(ErrorKind::Unsupported(format!(
            "parameter `{name}` is not persistable, so the weights file does not hold it"
        )));
    }
    if program.types.insert(id, ty).is_some() {
        return Err(bad(format!("value %{id} is defined twice")));
    }
    Ok(())
}

fn tag_tail(v: &Value) -> Option<&str> {
    let tag = v.get("#")?.as_str()?;
    Some(tag.rsplit_once('.').map_or(tag, |(_, t)| t))
}

fn read_type(v: &Value) -> Result<ValueType, ErrorKind> {
    if v.is_null() {
        return Ok(ValueType::Null);
    }
    let tail = tag_tail(v).ok_or_else(|| bad(format!("bad value type {v}")))?;
    let data = v.get("D");
    match tail {
        "t_dtensor" | "t_dense_tensor" | "t_tensor" => {
            let d = data
                .and_then(Value::as_array)
                .ok_or_else(|| bad(format!("bad tensor type {v}")))?;
            let dtype = d
                .first()
                .and_then(tag_tail)
                .and_then(DType::from_name)
                .ok_or_else(|| bad(format!("unknown element type in {v}")))?;
            let dims = d
                .get(1)
                .and_then(Value::as_array)
                .ok_or_else(|| bad(format!("tensor type without dims: {v}")))?
                .iter()
                .map(Value::as_i64)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad(format!("bad dims in {v}")))?;
            Ok(ValueType::Tensor { dtype, dims })
        }
        "t_vec" => {
            let items = data
                .and_then(Value::as_array)
                .ok_or_else(|| bad(format!("bad list type {v}")))?;
            Ok(ValueType::List(
                items.iter().map(read_type).collect::<Result<_, _>>()?,
            ))
        }
        "NULL" | "t_null" => Ok(ValueType::Null),
        other => Err(ErrorKind::Unsupported(format!(
            "values of type `{other}` are not supported"
        ))),
    }
}

fn read_attr(v: &Value) -> Result<AttrValue, ErrorKind> {
    let Some(tail) = tag_tail(v) else {
        return Ok(AttrValue::Other);
    };
    let data = v.get("D").unwrap_or(&Value::Null);
    let number = |data: &Value| -> Result<AttrValue, ErrorKind> {
        if let Some(i) = data.as_i64() {
            return Ok(AttrValue::Int(i));
        }
        if let Some(f) = data.as_f64() {
            return Ok(AttrValue::Float(f));
        }
        Err(bad(format!("bad numeric attribute {v}")))
    };
    Ok(match tail {
        "a_bool" => AttrValue::Bool(
            data.as_bool()
                .or_else(|| data.as_i64().map(|i| i != 0))
                .ok_or_else(|| bad(format!("bad boolean attribute {v}")))?,
        ),
        "a_i32" | "a_i64" | "a_index" | "a_i8" | "a_i16" | "a_ui8" => number(data)?,
        "a_f32" | "a_f64" => {
            // Non-finite values come as a string under `VD`.
            match v.get("VD").and_then(Value::as_str) {
                Some("NaN") => AttrValue::Float(f64::NAN),
                Some("INF") => AttrValue::Float(f64::INFINITY),
                Some("-INF") => AttrValue::Float(f64::NEG_INFINITY),
                _ => match number(data)? {
                    AttrValue::Int(i) => AttrValue::Float(i as f64),
                    f => f,
                },
            }
        }
        "a_str" | "a_layout" | "a_tensorname" => match data {
            Value::String(s) => AttrValue::Str(s.clone()),
            Value::Number(n) => AttrValue::Str(n.to_string()),
            _ => AttrValue::Other,
        },
        "a_array" => AttrValue::Array(
            data.as_array()
                .map(|items| items.iter().map(read_attr).collect::<Result<_, _>>())
                .transpose()?
                .unwrap_or_default(),
        ),
        "a_intarray" => AttrValue::Array(
            data.as_array()
                .ok_or_else(|| bad(format!("bad int array attribute {v}")))?
                .iter()
                .map(|i| i.as_i64().map(AttrValue::Int))
                .collect::<Option<_>>()
                .ok_or_else(|| bad(format!("bad int array attribute {v}")))?,
        ),
        "a_dtype" => match data.as_str().and_then(DType::from_name) {
            Some(d) => AttrValue::DType(d),
            None => AttrValue::Other,
        },
        _ => AttrValue::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROGRAM: &str = r##"{"base_code":{"magic":"pir","trainable":true,"version":1},
      "program":{"regions":[{"#":"region_0","blocks":[{"#":"block_0","args":[],"ops":[
        {"#":"p","A":[0,1,1,"w_10"],"O":{"%":1,"TT":{"#":"0.t_dtensor","D":[{"#":"0.t_f32"},[3,2],"NCHW",[],0]}},"OA":[1,0,1]},
        {"#":"p","A":[0,1,1,"w_2"],"O":{"%":2,"TT":{"#":"0.t_dtensor","D":[{"#":"0.t_f32"},[2],"NCHW",[],0]}},"OA":[1,0,1]},
        {"#":"1.data","A":[{"N":"name","AT":{"#":"0.a_str","D":"x"}},{"N":"shape","AT":{"#":"1.a_intarray","D":[-1,3]}}],
         "I":[],"O":[{"%":3,"TT":{"#":"0.t_dtensor","D":[{"#":"0.t_f32"},[-1,3],"NCHW",[],0]}}]},
        {"#":"pd_op.matmul","A":[{"N":"transpose_x","AT":{"#":"0.a_bool","D":false}},{"N":"struct_name","AT":{"#":"0.a_str","D":"/L/"}}],
         "I":[{"%":3},{"%":1}],"O":[{"%":4,"TT":{"#":"0.t_dtensor","D":[{"#":"0.t_f32"},[-1,2],"NCHW",[],0]}}]},
        {"#":"1.full","A":[{"N":"value","AT":{"#":"0.a_f64","D":1}},{"N":"inf","AT":{"#":"0.a_f32","D":0,"VD":"-INF"}},
          {"N":"strides","AT":{"#":"0.a_array","D":[{"#":"0.a_i32","D":2},{"#":"0.a_i64","D":2}]}}],
         "I":[],"O":[{"%":5,"TT":{"#":"0.t_dtensor","D":[{"#":"0.t_f32"},[1],"NCHW",[],0]}}]}
      ]}]}]}}"##;

    #[test]
    fn reads_compressed_and_full_names_parameters_and_attributes() {
        let p = read_pir(PROGRAM.as_bytes()).unwrap();
        assert_eq!(p.format, SourceFormat::Pir(1));
        // Byte-wise order: "w_10" < "w_2".
        let names: Vec<_> = p.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["w_10", "w_2"]);
        assert_eq!(p.params[0].dims, [3, 2]);
        assert_eq!(p.ops[0].kind, "data");
        assert_eq!(p.ops[1].kind, "matmul");
        assert_eq!(p.ops[1].inputs, [3, 1]);
        assert!(p.ops[1].attr("struct_name").is_none());
        assert!(!p.ops[1].bool("transpose_x").unwrap());
        assert_eq!(p.ops[2].float("value").unwrap(), 1.0);
        assert_eq!(p.ops[2].float("inf").unwrap(), f64::NEG_INFINITY);
        assert_eq!(p.ops[2].ints("strides").unwrap(), [2, 2]);
        assert_eq!(p.dims(3), Some(&[-1, 3][..]));
        assert_eq!(p.ops[0].ints("shape").unwrap(), [-1, 3]);
    }

    #[test]
    fn rejects_what_is_not_a_program() {
        for text in [
            "",
            "[]",
            "{\"base_code\":{\"magic\":\"xyz\"}}",
            "{\"base_code\":{\"magic\":\"pir\"}}",
            "{\"base_code\":{\"magic\":\"pir\"},\"program\":{\"regions\":[]}}",
        ] {
            assert!(
                matches!(read_pir(text.as_bytes()), Err(ErrorKind::Program(_))),
                "{text}"
            );
        }
        let twice = PROGRAM.replace("\"%\":5", "\"%\":4");
        assert!(
            matches!(read_pir(twice.as_bytes()), Err(ErrorKind::Program(m)) if m.contains("twice"))
        );
        let control = PROGRAM.replace("\"#\":\"1.full\",", "\"#\":\"1.if\",\"regions\":[{}],");
        assert!(matches!(
            read_pir(control.as_bytes()),
            Err(ErrorKind::Unsupported(_))
        ));
    }
}
