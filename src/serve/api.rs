//! The wire format of PaddleX's serving API: the request body, validated the
//! way FastAPI and pydantic (lax mode) validate it, and the response bodies,
//! written byte for byte in FastAPI's layout and key order.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::pyjson;
use crate::pyfmt::json::{to_string, DUMPS_DEFAULT, RESPONSE};

/// A validated `POST /image-classification` body, borrowing from the body
/// text where it can (the image is usually most of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InferRequest<'a> {
    /// Base64 of the file bytes, or an http(s) URL.
    pub image: Cow<'a, str>,
    /// Top-k asked for; `None` uses the pipeline's.
    pub topk: Option<usize>,
    /// Whether to return the visualisation; `None` uses `Serving.visualize`.
    pub visualize: Option<bool>,
    /// A string `logId` found in the body, echoed on errors.
    pub log_id: Option<String>,
}

/// One pydantic validation error, as FastAPI reports it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldError {
    /// pydantic's error type, e.g. `missing`.
    pub kind: &'static str,
    /// Where: `["body", "image"]`, `["body", 10]`, ...
    pub loc: Vec<Value>,
    /// The human message.
    pub msg: String,
    /// The offending input.
    pub input: Value,
    /// Extra context (`{"gt": 0}`), if any.
    pub ctx: Option<Value>,
}

impl FieldError {
    fn field(kind: &'static str, name: &str, msg: &str, input: &Value) -> Box<Self> {
        Box::new(FieldError {
            kind,
            loc: vec![json!("body"), json!(name)],
            msg: msg.to_string(),
            input: input.clone(),
            ctx: None,
        })
    }

    fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("type".into(), json!(self.kind));
        map.insert("loc".into(), Value::Array(self.loc.clone()));
        map.insert("msg".into(), json!(self.msg));
        map.insert("input".into(), self.input.clone());
        if let Some(ctx) = &self.ctx {
            map.insert("ctx".into(), ctx.clone());
        }
        Value::Object(map)
    }
}

/// A body that failed validation: the errors, and the client's `logId` if it sent one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Invalid {
    /// pydantic's errors, in field order.
    pub errors: Vec<FieldError>,
    /// A string `logId` found in the body.
    pub log_id: Option<String>,
}

impl Invalid {
    /// The `errorMsg`: `json.dumps` of the error list, as PaddleX writes it.
    pub(crate) fn message(&self) -> String {
        let list = Value::Array(self.errors.iter().map(FieldError::to_value).collect());
        to_string(&list, DUMPS_DEFAULT)
    }
}

/// The top-level fields of a body, each left as unparsed JSON text.
type Fields<'a> = HashMap<String, &'a RawValue>;

/// The `logId` field, when it is a string.
fn log_id_field(fields: &Fields<'_>) -> Option<String> {
    fields
        .get("logId")
        .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
}

/// The string `logId` of a JSON object body, read as [`parse_infer_body`]
/// reads it (for the bodies of requests it does not parse: 404, 405).
pub(crate) fn body_log_id(body: &[u8]) -> Option<String> {
    let fields: Fields<'_> = serde_json::from_str(json_text(body).ok()?).ok()?;
    log_id_field(&fields)
}

/// Parses and validates a request body, once: the top-level object is split
/// into its fields without parsing their values, the image string is
/// borrowed from the body (copied only when it holds escapes), and only the
/// small fields are parsed further. Any content type is read as JSON
/// (FastAPI would refuse a body sent without a JSON content type).
pub(crate) fn parse_infer_body(body: &[u8]) -> Result<InferRequest<'_>, Invalid> {
    let invalid = |errors: Vec<FieldError>, log_id: Option<String>| Invalid { errors, log_id };
    if body.is_empty() {
        let missing = FieldError {
            kind: "missing",
            loc: vec![json!("body")],
            msg: "Field required".into(),
            input: Value::Null,
            ctx: None,
        };
        return Err(invalid(vec![missing], None));
    }
    let text = json_text(body).map_err(|e| invalid(vec![*e], None))?;
    let fields: Fields<'_> = match serde_json::from_str(text) {
        Ok(fields) => fields,
        // Valid JSON that is not an object, or not JSON at all (only these
        // rare bodies are parsed a second time, for pydantic's `input`).
        Err(_) => {
            let value = parse_value(text).map_err(|e| invalid(vec![*e], None))?;
            let error = FieldError {
                kind: "model_attributes_type",
                loc: vec![json!("body")],
                msg: "Input should be a valid dictionary or object to extract fields from".into(),
                input: value,
                ctx: None,
            };
            return Err(invalid(vec![error], None));
        }
    };
    let log_id = log_id_field(&fields);
    let mut errors = Vec::new();
    let image = match fields.get("image") {
        Some(raw) => match string_of(raw) {
            Some(image) => Some(image),
            None => {
                errors.push(*FieldError::field(
                    "string_type",
                    "image",
                    "Input should be a valid string",
                    &value_of(raw),
                ));
                None
            }
        },
        None => {
            // pydantic echoes the whole body; the image is not in it.
            let whole = parse_value(text).unwrap_or(Value::Null);
            errors.push(*FieldError::field(
                "missing",
                "image",
                "Field required",
                &whole,
            ));
            None
        }
    };
    let topk = fields
        .get("topk")
        .map_or(Ok(None), |raw| validate_topk(&value_of(raw)))
        .map_err(|e| errors.push(*e))
        .ok()
        .flatten();
    let visualize = fields
        .get("visualize")
        .map_or(Ok(None), |raw| validate_visualize(&value_of(raw)))
        .map_err(|e| errors.push(*e))
        .ok()
        .flatten();
    match image {
        Some(image) if errors.is_empty() => Ok(InferRequest {
            image,
            topk,
            visualize,
            log_id,
        }),
        _ => Err(invalid(errors, log_id)),
    }
}

/// A JSON string value, borrowed when it has no escapes; `None` for other types.
fn string_of<'a>(raw: &'a RawValue) -> Option<Cow<'a, str>> {
    /// One pass: serde borrows the text when it has no escapes.
    #[derive(serde::Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    serde_json::from_str::<Text<'a>>(raw.get())
        .ok()
        .map(|t| t.0)
}

/// A field's value, parsed (it is valid JSON: the body parsed).
fn value_of(raw: &RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

/// The body as text: a UTF-8 BOM skipped, invalid UTF-8 reported as FastAPI does.
fn json_text(body: &[u8]) -> Result<&str, Box<FieldError>> {
    let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    std::str::from_utf8(body).map_err(|e| {
        json_invalid(
            e.valid_up_to(),
            "the body is not valid UTF-8 text".to_string(),
        )
    })
}

/// A `json_invalid` error at Python's character position.
fn json_invalid(pos: usize, error: String) -> Box<FieldError> {
    Box::new(FieldError {
        kind: "json_invalid",
        loc: vec![json!("body"), json!(pos)],
        msg: "JSON decode error".into(),
        input: json!({}),
        ctx: Some(json!({ "error": error })),
    })
}

/// Parses JSON, reporting a syntax error the way FastAPI does (`json_invalid`
/// at Python's character position, with Python's message).
fn parse_value(text: &str) -> Result<Value, Box<FieldError>> {
    serde_json::from_str(text).map_err(|e| match pyjson::locate_error(text) {
        Some(py) => json_invalid(py.pos, py.msg),
        // Text Python accepts but serde does not (NaN, lone surrogates, depth).
        None => json_invalid(char_offset(text, e.line(), e.column()), e.to_string()),
    })
}

/// The character offset of serde's 1-based line and column.
fn char_offset(text: &str, line: usize, column: usize) -> usize {
    let before: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(|l| l.chars().count())
        .sum();
    before + column.saturating_sub(1)
}

/// `topk: Optional[int] = Field(gt=0)` in pydantic's lax mode.
fn validate_topk(value: &Value) -> Result<Option<usize>, Box<FieldError>> {
    let int_error = |kind, msg| FieldError::field(kind, "topk", msg, value);
    let k: i128 = match value {
        Value::Null => return Ok(None),
        Value::Bool(b) => i128::from(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i128::from(i)
            } else if let Some(u) = n.as_u64() {
                i128::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if !f.is_finite() {
                    return Err(int_error(
                        "finite_number",
                        "Input should be a finite number",
                    ));
                }
                if f.fract() != 0.0 {
                    return Err(int_error(
                        "int_from_float",
                        "Input should be a valid integer, got a number with a fractional part",
                    ));
                }
                f.clamp(-1e30, 1e30) as i128
            }
        }
        Value::String(s) => s.trim().replace('_', "").parse::<i128>().map_err(|_| {
            int_error(
                "int_parsing",
                "Input should be a valid integer, unable to parse string as an integer",
            )
        })?,
        Value::Array(_) | Value::Object(_) => {
            return Err(int_error("int_type", "Input should be a valid integer"))
        }
    };
    if k <= 0 {
        let mut e = int_error("greater_than", "Input should be greater than 0");
        e.ctx = Some(json!({"gt": 0}));
        return Err(e);
    }
    Ok(Some(usize::try_from(k).unwrap_or(usize::MAX)))
}

/// `visualize: Optional[bool]` in pydantic's lax mode.
fn validate_visualize(value: &Value) -> Result<Option<bool>, Box<FieldError>> {
    let parsing = || {
        FieldError::field(
            "bool_parsing",
            "visualize",
            "Input should be a valid boolean, unable to interpret input",
            value,
        )
    };
    match value {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::Number(n) => match n.as_f64() {
            Some(0.0) => Ok(Some(false)),
            Some(1.0) => Ok(Some(true)),
            _ => Err(parsing()),
        },
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "0" | "off" | "f" | "false" | "n" | "no" => Ok(Some(false)),
            "1" | "on" | "t" | "true" | "y" | "yes" => Ok(Some(true)),
            _ => Err(parsing()),
        },
        Value::Array(_) | Value::Object(_) => Err(FieldError::field(
            "bool_type",
            "visualize",
            "Input should be a valid boolean",
            value,
        )),
    }
}

/// One entry of `result.categories`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Category {
    /// Class id.
    pub id: i32,
    /// Its label (or the id as text).
    pub name: String,
    /// float32 score, rounded to 5 decimals like PaddleX.
    pub score: f32,
}

/// The 200 body: `{"logId","result":{"categories":[...],"image"?},"errorCode":0,"errorMsg":"Success"}`.
/// `image` (base64 JPEG) is left out entirely when `None`.
pub(crate) fn success_body(log_id: &str, categories: &[Category], image: Option<&str>) -> String {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body<'a> {
        log_id: &'a str,
        result: Classified<'a>,
        error_code: u16,
        error_msg: &'a str,
    }
    #[derive(serde::Serialize)]
    struct Classified<'a> {
        categories: &'a [Category],
        #[serde(skip_serializing_if = "Option::is_none")]
        image: Option<&'a str>,
    }
    let body = Body {
        log_id,
        result: Classified { categories, image },
        error_code: 0,
        error_msg: "Success",
    };
    to_string(&body, RESPONSE)
}

/// The body of `GET /health` and of every error: `{"logId","errorCode","errorMsg"}`.
pub(crate) fn envelope_body(log_id: &str, error_code: u16, error_msg: &str) -> String {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Envelope<'a> {
        log_id: &'a str,
        error_code: u16,
        error_msg: &'a str,
    }
    let envelope = Envelope {
        log_id,
        error_code,
        error_msg,
    };
    to_string(&envelope, RESPONSE)
}

/// A fresh log id: a random UUID4 in its hyphenated form.
pub(crate) fn new_log_id() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

/// The OpenAPI document served at `/openapi.json`: PaddleX's schema names
/// and fields, plus the 408, 413 and 503 answers this server adds.
pub(crate) const OPENAPI_JSON: &str = r##"{"openapi":"3.1.0","info":{"title":"paddlex-rs image_classification","version":"0.1.0"},"paths":{"/health":{"get":{"summary":"Check Health","operationId":"checkHealth","responses":{"200":{"description":"Healthy","content":{"application/json":{"schema":{"$ref":"#/components/schemas/NoResultResponse"}}}}}}},"/image-classification":{"post":{"summary":"Infer","operationId":"infer","requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/InferRequest"}}}},"responses":{"200":{"description":"Success","content":{"application/json":{"schema":{"$ref":"#/components/schemas/InferResponse"}}}},"408":{"description":"Request body not received in time","content":{"application/json":{"schema":{"$ref":"#/components/schemas/NoResultResponse"}}}},"413":{"description":"Request body too large","content":{"application/json":{"schema":{"$ref":"#/components/schemas/NoResultResponse"}}}},"422":{"description":"Invalid body, or an image that cannot be fetched or decoded","content":{"application/json":{"schema":{"$ref":"#/components/schemas/NoResultResponse"}}}},"500":{"description":"Server fault","content":{"application/json":{"schema":{"$ref":"#/components/schemas/NoResultResponse"}}}},"503":{"description":"Queue full, retry later","content":{"application/json":{"schema":{"$ref":"#/components/schemas/NoResultResponse"}}}}}}}},"components":{"schemas":{"NoResultResponse":{"type":"object","required":["logId","errorCode","errorMsg"],"properties":{"logId":{"type":"string"},"errorCode":{"type":"integer"},"errorMsg":{"type":"string"}}},"InferRequest":{"type":"object","required":["image"],"properties":{"image":{"type":"string","description":"base64 of the image file, or an http(s) URL"},"topk":{"anyOf":[{"type":"integer","exclusiveMinimum":0},{"type":"null"}]},"visualize":{"anyOf":[{"type":"boolean"},{"type":"null"}]}}},"Category":{"type":"object","required":["id","name","score"],"properties":{"id":{"type":"integer"},"name":{"type":"string"},"score":{"type":"number"}}},"InferResult":{"type":"object","required":["categories"],"properties":{"categories":{"type":"array","items":{"$ref":"#/components/schemas/Category"}},"image":{"type":"string","description":"base64 JPEG of the visualisation"}}},"InferResponse":{"type":"object","required":["logId","result","errorCode","errorMsg"],"properties":{"logId":{"type":"string"},"result":{"$ref":"#/components/schemas/InferResult"},"errorCode":{"type":"integer","const":0},"errorMsg":{"type":"string","const":"Success"}}}}}}"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_id_of_an_unparsed_body_is_read_as_an_infer_body_reads_it() {
        let body = "\u{feff}{\"image\": 1, \"logId\": \"a\\u00e9\"}".as_bytes();
        assert_eq!(body_log_id(body).as_deref(), Some("a\u{e9}"));
        let infer = parse_infer_body(body).unwrap_err();
        assert_eq!(infer.log_id.as_deref(), Some("a\u{e9}"));
        assert_eq!(body_log_id(br#"{"logId": 5}"#), None);
        assert_eq!(body_log_id(br#"["logId"]"#), None);
        assert_eq!(body_log_id(b"not json"), None);
    }

    fn message(body: &str) -> String {
        parse_infer_body(body.as_bytes()).unwrap_err().message()
    }

    #[test]
    fn valid_bodies_with_lax_values() {
        let r = parse_infer_body(br#"{"image": "abc", "topk": "3", "visualize": "no"}"#).unwrap();
        assert_eq!(
            r,
            InferRequest {
                image: "abc".into(),
                topk: Some(3),
                visualize: Some(false),
                log_id: None,
            }
        );
        assert!(matches!(r.image, Cow::Borrowed(_)), "not copied");
        let r = parse_infer_body(br#"{"image": "a\/b", "image": "c\nd", "logId": "x"}"#).unwrap();
        assert_eq!((r.image.as_ref(), r.log_id.as_deref()), ("c\nd", Some("x")));
        let r = parse_infer_body(br#"{"image": "abc", "topk": 2.0, "visualize": null, "x": 1}"#)
            .unwrap();
        assert_eq!((r.topk, r.visualize), (Some(2), None));
        let r = parse_infer_body(br#"{"image": "a", "topk": null, "visualize": 1}"#).unwrap();
        assert_eq!((r.topk, r.visualize), (None, Some(true)));
    }

    #[test]
    fn messages_match_paddlex_3_3() {
        // The reference responses of the real server (tests/data/serving).
        assert_eq!(
            message(r#"{"topk": 2}"#),
            r#"[{"type": "missing", "loc": ["body", "image"], "msg": "Field required", "input": {"topk": 2}}]"#
        );
        assert_eq!(
            message(r#"{"image": "x", "topk": 0}"#),
            r#"[{"type": "greater_than", "loc": ["body", "topk"], "msg": "Input should be greater than 0", "input": 0, "ctx": {"gt": 0}}]"#
        );
        assert_eq!(
            message(r#"{"image": 123}"#),
            r#"[{"type": "string_type", "loc": ["body", "image"], "msg": "Input should be a valid string", "input": 123}]"#
        );
        assert_eq!(
            message(r#"{"image": nope}"#),
            r#"[{"type": "json_invalid", "loc": ["body", 10], "msg": "JSON decode error", "input": {}, "ctx": {"error": "Expecting value"}}]"#
        );
    }

    #[test]
    fn every_field_error_is_reported_and_log_id_kept() {
        let e = parse_infer_body(
            br#"{"logId": "abc", "image": [], "topk": 1.5, "visualize": "maybe"}"#,
        )
        .unwrap_err();
        assert_eq!(e.log_id.as_deref(), Some("abc"));
        let kinds: Vec<_> = e.errors.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["string_type", "int_from_float", "bool_parsing"]);
        let e = parse_infer_body(br#"{"image": "a", "topk": {}, "visualize": []}"#).unwrap_err();
        let kinds: Vec<_> = e.errors.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["int_type", "bool_type"]);
        assert!(parse_infer_body(br#"{"image": "a", "topk": -3}"#).is_err());
        assert!(parse_infer_body(br#"{"image": "a", "topk": false}"#).is_err());
        assert!(parse_infer_body(br#"{"image": "a", "topk": "x"}"#).is_err());
    }

    #[test]
    fn non_objects_empty_bodies_and_bad_utf8() {
        assert_eq!(
            message("[1]"),
            r#"[{"type": "model_attributes_type", "loc": ["body"], "msg": "Input should be a valid dictionary or object to extract fields from", "input": [1]}]"#
        );
        assert_eq!(
            message(""),
            r#"[{"type": "missing", "loc": ["body"], "msg": "Field required", "input": null}]"#
        );
        let e = parse_infer_body(b"{\"image\": \"\xff\"}").unwrap_err();
        assert_eq!(e.errors[0].kind, "json_invalid");
        let e = parse_infer_body(br#"{"image": "a", "topk": NaN}"#).unwrap_err();
        assert_eq!(e.errors[0].kind, "json_invalid");
    }

    #[test]
    fn bodies_in_fastapi_layout() {
        let cats = [
            Category {
                id: 2,
                name: "180".into(),
                score: 0.92539,
            },
            Category {
                id: 1,
                name: "90".into(),
                score: 0.02538,
            },
        ];
        assert_eq!(
            success_body("77297d06-798f-4b2d-80fa-9622150767a1", &cats, None),
            r#"{"logId":"77297d06-798f-4b2d-80fa-9622150767a1","result":{"categories":[{"id":2,"name":"180","score":0.9253900051116943},{"id":1,"name":"90","score":0.025380000472068787}]},"errorCode":0,"errorMsg":"Success"}"#
        );
        assert!(success_body("x", &cats, Some("QUJD"))
            .ends_with(r#"}],"image":"QUJD"},"errorCode":0,"errorMsg":"Success"}"#));
        assert_eq!(
            envelope_body("id", 422, "[{\"a\": 1}]"),
            r#"{"logId":"id","errorCode":422,"errorMsg":"[{\"a\": 1}]"}"#
        );
        let id = new_log_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
        serde_json::from_str::<Value>(OPENAPI_JSON).unwrap();
    }
}
