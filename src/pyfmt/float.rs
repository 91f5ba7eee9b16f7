//! Python's and numpy's ways of writing floats: `repr(float)` (used by
//! `json.dumps`) and numpy's array repr of a float32 vector.

/// Python's `repr()` of a double: shortest round-trip digits, scientific
/// notation when the exponent is below -4 or at least 16, always a `.0` or
/// exponent so it reads back as a float.
pub(crate) fn repr_f64(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let (negative, digits, exp) = shortest_digits(format!("{x:e}"));
    let body = if (-4..16).contains(&exp) {
        positional(&digits, exp, true)
    } else {
        scientific(&digits, exp, digits.len() - 1, false)
    };
    if negative {
        format!("-{body}")
    } else {
        body
    }
}

/// Splits Rust's shortest `{:e}` output (`-1.2345e-3`) into sign, digit string and exponent.
fn shortest_digits(sci: String) -> (bool, String, i32) {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (negative, digits, exp.parse().unwrap_or(0))
}

/// `d.ddd` × 10^exp written positionally; `point_zero` adds `.0` to integers
/// (Python) where numpy writes a bare `.`.
fn positional(digits: &str, exp: i32, point_zero: bool) -> String {
    let int_len = exp + 1;
    let (int_part, frac_part) = if int_len <= 0 {
        (
            "0".to_string(),
            format!("{}{}", "0".repeat((-int_len) as usize), digits),
        )
    } else if int_len as usize >= digits.len() {
        (
            format!("{}{}", digits, "0".repeat(int_len as usize - digits.len())),
            String::new(),
        )
    } else {
        (
            digits[..int_len as usize].to_string(),
            digits[int_len as usize..].to_string(),
        )
    };
    match (frac_part.is_empty(), point_zero) {
        (true, true) => format!("{int_part}.0"),
        (true, false) => format!("{int_part}."),
        (false, _) => format!("{int_part}.{frac_part}"),
    }
}

/// Scientific form with `precision` fraction digits (zero-padded) and a
/// two-digit-minimum signed exponent, as both Python and numpy write it.
fn scientific(digits: &str, exp: i32, precision: usize, numpy: bool) -> String {
    let mut frac: String = digits.get(1..).unwrap_or("").to_string();
    while frac.len() < precision {
        frac.push('0');
    }
    let sign = if exp < 0 { '-' } else { '+' };
    let mantissa = match (frac.is_empty(), numpy) {
        (true, true) => format!("{}.", &digits[..1]),
        (true, false) => digits[..1].to_string(),
        (false, _) => format!("{}.{}", &digits[..1], frac),
    };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// numpy's repr of an int32 vector: `array([282, 285,  81], dtype=int32)`
/// (elements right-aligned to a common width).
pub(crate) fn numpy_int_array(values: &[i32]) -> String {
    let texts: Vec<String> = values.iter().map(i32::to_string).collect();
    let width = texts.iter().map(String::len).max().unwrap_or(0);
    let items: Vec<String> = texts.iter().map(|t| format!("{t:>width$}")).collect();
    format!("array([{}], dtype=int32)", items.join(", "))
}

/// numpy's repr of a float32 vector with the default print options
/// (`floatmode='maxprec'`, precision 8): fixed notation padded to a common
/// layout, or scientific when the magnitudes ask for it.
pub(crate) fn numpy_float_array(values: &[f32]) -> String {
    format!(
        "array([{}], dtype=float32)",
        numpy_float_items(values).join(", ")
    )
}

fn numpy_float_items(values: &[f32]) -> Vec<String> {
    let finite: Vec<f64> = values
        .iter()
        .filter(|v| v.is_finite() && **v != 0.0)
        .map(|v| f64::from(v.abs()))
        .collect();
    let max = finite.iter().copied().fold(0.0, f64::max);
    let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let scientific = !finite.is_empty() && (max >= 1e8 || min < 1e-4 || max / min > 1e3);
    let parts: Vec<(bool, String, i32)> = values.iter().map(|v| float32_digits(*v)).collect();
    if scientific {
        sci_items(values, &parts)
    } else {
        fixed_items(values, &parts)
    }
}

/// Shortest round-trip digits of a float32 (what numpy's `unique=True` uses),
/// at most 8 fraction digits in fixed notation.
fn float32_digits(v: f32) -> (bool, String, i32) {
    let (neg, digits, exp) = shortest_digits(format!("{v:e}"));
    (neg, digits, exp)
}

fn fixed_items(values: &[f32], parts: &[(bool, String, i32)]) -> Vec<String> {
    let texts: Vec<String> = values
        .iter()
        .zip(parts)
        .map(|(v, (neg, digits, exp))| {
            if !v.is_finite() {
                return non_finite(*v);
            }
            let body = if *v == 0.0 {
                "0.".to_string()
            } else {
                limit_fraction(positional(digits, *exp, false), 8)
            };
            if *neg {
                format!("-{body}")
            } else {
                body
            }
        })
        .collect();
    let split: Vec<(&str, &str)> = texts
        .iter()
        .map(|t| t.split_once('.').unwrap_or((t, "")))
        .collect();
    let int_w = split.iter().map(|(i, _)| i.len()).max().unwrap_or(0);
    let frac_w = split.iter().map(|(_, f)| f.len()).max().unwrap_or(0);
    texts
        .iter()
        .zip(&split)
        .map(|(t, (i, f))| {
            if !t.contains('.') {
                return format!("{t:>w$}", w = int_w + 1 + frac_w);
            }
            format!("{i:>int_w$}.{f:<frac_w$}")
        })
        .collect()
}

/// Rounds a positional string to at most `max` fraction digits (numpy's
/// precision cap), trimming trailing zeros.
fn limit_fraction(text: String, max: usize) -> String {
    match text.split_once('.') {
        Some((_, frac)) if frac.len() > max => {
            let value: f64 = text.parse().unwrap_or(0.0);
            let rounded = format!("{value:.max$}");
            let trimmed = rounded.trim_end_matches('0');
            trimmed.to_string()
        }
        _ => text,
    }
}

fn sci_items(values: &[f32], parts: &[(bool, String, i32)]) -> Vec<String> {
    let precision = parts
        .iter()
        .zip(values)
        .filter(|(_, v)| v.is_finite())
        .map(|((_, d, _), _)| d.len().saturating_sub(1).min(8))
        .max()
        .unwrap_or(0);
    let texts: Vec<String> = values
        .iter()
        .zip(parts)
        .map(|(v, (neg, digits, exp))| {
            if !v.is_finite() {
                return non_finite(*v);
            }
            let (digits, exp) = if *v == 0.0 {
                ("0".to_string(), 0)
            } else {
                (digits.clone(), *exp)
            };
            let body = scientific(&digits[..digits.len().min(9)], exp, precision, true);
            if *neg {
                format!("-{body}")
            } else {
                body
            }
        })
        .collect();
    let width = texts.iter().map(String::len).max().unwrap_or(0);
    texts.iter().map(|t| format!("{t:>width$}")).collect()
}

fn non_finite(v: f32) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v > 0.0 {
        "inf".into()
    } else {
        "-inf".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_repr_of_float32_scores() {
        assert_eq!(repr_f64(f64::from(0.38878f32)), "0.38877999782562256");
        assert_eq!(repr_f64(f64::from(0.0197f32)), "0.019700000062584877");
        assert_eq!(repr_f64(f64::from(0.00133f32)), "0.0013299999991431832");
        assert_eq!(repr_f64(f64::from(0.27337f32)), "0.27336999773979187");
        assert_eq!(repr_f64(1.0), "1.0");
        assert_eq!(repr_f64(0.0), "0.0");
        assert_eq!(repr_f64(f64::from(1e-5f32)), "9.999999747378752e-06");
        assert_eq!(repr_f64(0.0001), "0.0001");
        assert_eq!(repr_f64(1e16), "1e+16");
        assert_eq!(repr_f64(123.5), "123.5");
        assert_eq!(repr_f64(-2.5e-7), "-2.5e-07");
    }

    #[test]
    fn numpy_int_arrays_align_right() {
        assert_eq!(
            numpy_int_array(&[282, 285, 281, 287, 904]),
            "array([282, 285, 281, 287, 904], dtype=int32)"
        );
        assert_eq!(
            numpy_int_array(&[139, 676, 30]),
            "array([139, 676,  30], dtype=int32)"
        );
        assert_eq!(numpy_int_array(&[2]), "array([2], dtype=int32)");
    }

    #[test]
    fn numpy_float_arrays_in_fixed_notation() {
        assert_eq!(
            numpy_float_array(&[0.38878, 0.35908, 0.16275, 0.0197, 0.00133]),
            "array([0.38878, 0.35908, 0.16275, 0.0197 , 0.00133], dtype=float32)"
        );
        assert_eq!(
            numpy_float_array(&[0.92423, 0.02595]),
            "array([0.92423, 0.02595], dtype=float32)"
        );
        assert_eq!(
            numpy_float_array(&[0.88164]),
            "array([0.88164], dtype=float32)"
        );
        assert_eq!(
            numpy_float_array(&[1.0, 0.0]),
            "array([1., 0.], dtype=float32)"
        );
        assert_eq!(
            numpy_float_array(&[0.99998, 0.0]),
            "array([0.99998, 0.     ], dtype=float32)"
        );
        assert_eq!(
            numpy_float_array(&[0.9, 0.1]),
            "array([0.9, 0.1], dtype=float32)"
        );
    }

    #[test]
    fn numpy_float_arrays_in_scientific_notation() {
        assert_eq!(
            numpy_float_array(&[0.99123, 0.0061, 0.00061]),
            "array([9.9123e-01, 6.1000e-03, 6.1000e-04], dtype=float32)"
        );
        assert_eq!(
            numpy_float_array(&[0.8, 0.0008]),
            "array([8.e-01, 8.e-04], dtype=float32)"
        );
        assert_eq!(
            numpy_float_array(&[0.5, 0.00001]),
            "array([5.e-01, 1.e-05], dtype=float32)"
        );
    }
}
