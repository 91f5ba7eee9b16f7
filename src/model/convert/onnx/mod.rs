//! A small ONNX writer: the protobuf messages ([`proto`]) and a builder
//! ([`GraphBuilder`]) that assembles a model and serialises it to bytes.
//!
//! No `protoc` and no build script: the messages are hand-declared `prost`
//! structs mirroring the needed part of `onnx.proto`. Weights are written as
//! little-endian `raw_data`.

pub mod builder;
pub mod proto;

pub use builder::{Attr, DataType, Dim, GraphBuilder};

#[cfg(test)]
pub(crate) mod test_ort {
    //! ONNX Runtime access for tests, through the project's own library
    //! resolution (`ORT_DYLIB_PATH`, beside the binary, the cache, else
    //! provisioned from the onnxruntime wheel).

    use ort::environment::Environment;
    use ort::session::Session;
    use ort::value::Tensor;

    /// The process-wide ORT environment.
    pub(crate) fn env(_test: &str) -> Option<&'static Environment> {
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
    use prost::Message;

    use super::proto::{type_proto, ModelProto};
    use super::*;
    use crate::model::convert::ConvertError;

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
    fn model_round_trips_through_prost() {
        let bytes = gemm_softmax()
            .finish(13, &[("labels", "a\nb"), ("character", "x")])
            .unwrap();
        let model = ModelProto::decode(bytes.as_slice()).unwrap();
        assert_eq!(model.ir_version, Some(7));
        assert_eq!(model.opset_import[0].version, Some(13));
        assert_eq!(model.metadata_props[0].key, "labels");
        assert_eq!(model.metadata_props[0].value, "a\nb");
        let graph = model.graph.unwrap();
        assert_eq!(graph.node[0].attribute[0].i, Some(1));
        assert_eq!(graph.initializer[0].raw_data.len(), 24);
        let Some(type_proto::Value::TensorType(t)) = &graph.input[0].r#type.as_ref().unwrap().value
        else {
            panic!("tensor type expected")
        };
        assert_eq!(t.shape.as_ref().unwrap().dim.len(), 2);
    }

    #[test]
    fn zero_valued_attributes_are_written() {
        let a = Attr::int("axis", 0);
        assert!(a.proto().encode_to_vec().len() > "axis".len() + 4);
    }

    #[test]
    fn builder_reports_mistakes() {
        let mut g = gemm_softmax();
        g.initializer("bad", &[2, 2], &[1.0]);
        assert!(matches!(g.finish(13, &[]), Err(ConvertError::Graph(m)) if m.contains("bad")));

        let mut g = gemm_softmax();
        g.node("Relu", &["nowhere"], &["r"], &[]);
        assert!(matches!(g.finish(13, &[]), Err(ConvertError::Graph(m)) if m.contains("nowhere")));

        let mut g = gemm_softmax();
        g.node("Relu", &["y"], &["logits"], &[]);
        assert!(matches!(g.finish(13, &[]), Err(ConvertError::Graph(m)) if m.contains("twice")));

        let mut g = gemm_softmax();
        g.output("z", DataType::Float, &[]);
        assert!(matches!(g.finish(13, &[]), Err(ConvertError::Graph(m)) if m.contains("`z`")));
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
