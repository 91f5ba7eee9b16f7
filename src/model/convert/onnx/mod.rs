//! The ONNX writer lives in the `paddle2onnx` crate ([`paddle2onnx::onnx`]);
//! this module re-exports it and gives the tests ONNX Runtime access.

pub(crate) use paddle2onnx::onnx::{Attr, DataType, Dim, GraphBuilder, GraphError};

#[cfg(test)]
pub(crate) mod test_ort {
    //! ONNX Runtime access for tests, through the project's own library
    //! resolution (`ORT_DYLIB_PATH`, beside the binary, the cache, else
    //! provisioned from the onnxruntime wheel).

    use ort::environment::Environment;
    use ort::session::Session;
    use ort::value::Tensor;

    /// The process-wide ORT environment. The runtime is looked for (and
    /// provisioned) in the tests' cache under `target/tmp`, never in the
    /// user's `~/.paddlex`.
    pub(crate) fn env(_test: &str) -> Option<&'static Environment> {
        static CACHE: std::sync::Once = std::sync::Once::new();
        CACHE.call_once(|| {
            if std::env::var_os("PADDLE_PDX_CACHE_HOME").is_none() {
                let cache = concat!(env!("CARGO_MANIFEST_DIR"), "/target/tmp/paddlex-cache");
                std::env::set_var("PADDLE_PDX_CACHE_HOME", cache);
            }
        });
        match crate::runtime::library::environment() {
            Ok(env) => Some(env),
            Err(e) => panic!("ONNX Runtime is needed for this test: {e}"),
        }
    }

    /// Loads `model` into a session.
    pub(crate) fn session(env: &Environment, model: &[u8]) -> Session {
        Session::builder(env)
            .expect("session builder")
            .commit_from_memory(model)
            .expect("ONNX Runtime accepts the model")
    }

    /// Runs a single-input model on `f32` data; returns the first output's
    /// shape and values.
    pub(crate) fn run_f32(
        session: &mut Session,
        input: &str,
        shape: &[usize],
        data: Vec<f32>,
    ) -> (Vec<i64>, Vec<f32>) {
        let tensor = Tensor::from_array((shape.to_vec(), data)).expect("input tensor");
        let outputs = session.run(ort::inputs![input => tensor]).expect("run");
        let (shape, values) = outputs[0].try_extract_tensor::<f32>().expect("f32 output");
        (shape.to_vec(), values.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: [f32; 6] = [0.5, -1.0, 2.0, 0.25, 1.5, -0.75];
    const B: [f32; 2] = [0.1, -0.2];

    /// x [N,3] -> Gemm(W [2,3], transB) + B -> Softmax -> y [N,2]
    fn gemm_softmax() -> GraphBuilder {
        let mut g = GraphBuilder::new("gemm_softmax");
        g.input("x", DataType::Float, &[Dim::Param("N"), Dim::Fixed(3)]);
        g.initializer("w", &[2, 3], &W);
        g.initializer("b", &[2], &B);
        g.node(
            "Gemm",
            &["x", "w", "b"],
            &["logits"],
            &[Attr::int("transB", 1)],
        );
        g.node("Softmax", &["logits"], &["y"], &[Attr::int("axis", 1)]);
        g.output("y", DataType::Float, &[Dim::Param("N"), Dim::Fixed(2)]);
        g
    }
    fn expected(x: &[f32]) -> Vec<f32> {
        x.chunks(3)
            .flat_map(|row| {
                let logits: Vec<f64> = (0..2)
                    .map(|o| {
                        f64::from(B[o])
                            + (0..3)
                                .map(|i| f64::from(row[i]) * f64::from(W[o * 3 + i]))
                                .sum::<f64>()
                    })
                    .collect();
                let max = logits.iter().copied().fold(f64::MIN, f64::max);
                let exps: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
                let sum: f64 = exps.iter().sum();
                exps.into_iter().map(move |e| (e / sum) as f32)
            })
            .collect()
    }

    #[test]
    fn gemm_softmax_runs_in_onnx_runtime() {
        let Some(env) = test_ort::env("gemm_softmax_runs_in_onnx_runtime") else {
            return;
        };
        let bytes = gemm_softmax()
            .finish(13, &[("labels", "a\nb"), ("character", "x")])
            .unwrap();
        let mut session = test_ort::session(env, &bytes);
        let x = vec![1.0, 2.0, 3.0, -1.0, 0.5, 0.0];
        let (shape, y) = test_ort::run_f32(&mut session, "x", &[2, 3], x.clone());
        assert_eq!(shape, [2, 2]);
        for (got, want) in y.iter().zip(expected(&x)) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
        let metadata = session.metadata().unwrap();
        assert_eq!(metadata.custom("labels").as_deref(), Some("a\nb"));
        assert_eq!(metadata.custom("character").as_deref(), Some("x"));
    }
}
