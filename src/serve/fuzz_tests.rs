//! Deterministic mutation fuzzing of the serving request parser: valid
//! bodies mutated (bit flips, JSON punctuation, truncations, repeated and
//! deleted runs, splices between bodies, deep nesting), each parsed and, when
//! refused, turned into its error message. No mutant may panic.
//!
//! `PADDLEX_RS_FUZZ_CASES=<n>` sets the mutants per seed (default 5000, about
//! a second), `PADDLEX_RS_FUZZ_SEED=<n>` the generator's seed: the same
//! variables as `tests/fuzz.rs`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::api::parse_infer_body;
use super::pyjson::locate_error;

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn seeds() -> Vec<Vec<u8>> {
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    vec![
        format!(r#"{{"image": "{png}", "inferenceParams": {{"topk": 3}}, "visualize": false, "logId": "a-1"}}"#),
        format!(r#"{{"image":"data:image/png;base64,{png}","logId":"\u00e9\n"}}"#),
        r#"{"image": "http://127.0.0.1:9/x.png", "inferenceParams": {"topk": -1.5e3}, "visualize": null}"#.to_string(),
        r#"[{"image": ""}, 1, "x", true, null]"#.to_string(),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect()
}

const PUNCTUATION: &[u8] = b"{}[]\":,\\ 0123456789.eE+-truefalsn\x00\xff\xc3";

fn mutate(seed: &[u8], all: &[Vec<u8>], rng: &mut Rng) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..=rng.below(3) {
        let len = out.len().max(1);
        match rng.below(7) {
            0 => {
                let i = rng.below(len);
                if let Some(b) = out.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
            1 => {
                let i = rng.below(len);
                if let Some(b) = out.get_mut(i) {
                    *b = PUNCTUATION[rng.below(PUNCTUATION.len())];
                }
            }
            2 => out.truncate(rng.below(len)),
            3 => {
                let (a, b) = (rng.below(len), rng.below(len));
                let (a, b) = (a.min(b), a.max(b).min(out.len()));
                let run = out[a.min(out.len())..b].to_vec();
                let at = rng.below(out.len() + 1);
                out.splice(
                    at..at,
                    run.iter()
                        .copied()
                        .cycle()
                        .take(run.len() * (1 + rng.below(4))),
                );
            }
            4 => {
                let (a, b) = (rng.below(len), rng.below(len));
                let (a, b) = (a.min(b).min(out.len()), a.max(b).min(out.len()));
                out.drain(a..b);
            }
            5 => {
                let other = &all[rng.below(all.len())];
                let cut = rng.below(out.len() + 1);
                let from = rng.below(other.len() + 1);
                out.truncate(cut);
                out.extend_from_slice(&other[from..]);
            }
            _ => {
                let depth = 1 + rng.below(5000);
                let at = rng.below(out.len() + 1);
                let open = if rng.below(2) == 0 { b'[' } else { b'{' };
                out.splice(at..at, std::iter::repeat_n(open, depth));
            }
        }
    }
    out
}

#[test]
fn mutated_request_bodies_never_panic_the_parser() {
    let cases = env_number("PADDLEX_RS_FUZZ_CASES", 5000) as usize;
    let mut rng = Rng(env_number("PADDLEX_RS_FUZZ_SEED", 0x5eed_f00d) | 1);
    let all = seeds();
    let (mut accepted, mut refused) = (0, 0);
    for (s, seed) in all.iter().enumerate() {
        for case in 0..cases {
            let body = mutate(seed, &all, &mut rng);
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let parsed = parse_infer_body(&body).map(|_| ()).map_err(|e| e.message());
                let _ = locate_error(&String::from_utf8_lossy(&body));
                parsed
            }));
            match outcome {
                Ok(Ok(())) => accepted += 1,
                Ok(Err(message)) => {
                    assert!(!message.is_empty(), "seed {s} case {case}: empty message");
                    refused += 1;
                }
                Err(_) => panic!(
                    "seed {s} case {case} panicked the parser: {:?}",
                    String::from_utf8_lossy(&body)
                ),
            }
        }
    }
    // The mutants reach both the accepting and the refusing paths.
    assert!(
        accepted > 0 && refused > 0,
        "accepted {accepted}, refused {refused}"
    );
}
