//! A small ONNX writer: the protobuf messages ([`proto`]) and a builder
//! ([`GraphBuilder`]) that assembles a model and serialises it to bytes.
//!
//! No `protoc` and no build script: the messages are hand-declared `prost`
//! structs mirroring the needed part of `onnx.proto`. Weights are written as
//! little-endian `raw_data`.

pub mod builder;
pub mod proto;

pub use builder::{Attr, DataType, Dim, GraphBuilder, GraphError, WriteError};

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::proto::{type_proto, ModelProto};
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
    fn streamed_model_decodes_to_the_same_message() {
        let whole = gemm_softmax().finish(17, &[("labels", "a\nb")]).unwrap();
        let mut streamed = Vec::new();
        gemm_softmax()
            .write_to(17, &[("labels", "a\nb")], &mut streamed)
            .unwrap();
        assert_eq!(whole.len(), streamed.len());
        assert_eq!(
            ModelProto::decode(whole.as_slice()).unwrap(),
            ModelProto::decode(streamed.as_slice()).unwrap()
        );
    }

    #[test]
    fn raw_initializers_are_checked() {
        let mut g = gemm_softmax();
        g.initializer_raw("r", &[2], DataType::Int64, vec![0; 16]);
        assert!(g.finish(13, &[]).is_ok());
        let mut g = gemm_softmax();
        g.initializer_raw("r", &[3], DataType::Int64, vec![0; 16]);
        assert!(matches!(g.finish(13, &[]), Err(GraphError(m)) if m.contains("`r`")));
        let mut g = gemm_softmax();
        g.initializer_raw("r", &[2], DataType::Float, vec![0; 7]);
        assert!(matches!(g.finish(13, &[]), Err(GraphError(m)) if m.contains("whole")));
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
        assert!(matches!(g.finish(13, &[]), Err(GraphError(m)) if m.contains("bad")));

        let mut g = gemm_softmax();
        g.node("Relu", &["nowhere"], &["r"], &[]);
        assert!(matches!(g.finish(13, &[]), Err(GraphError(m)) if m.contains("nowhere")));

        let mut g = gemm_softmax();
        g.node("Relu", &["y"], &["logits"], &[]);
        assert!(matches!(g.finish(13, &[]), Err(GraphError(m)) if m.contains("twice")));

        let mut g = gemm_softmax();
        g.output("z", DataType::Float, &[]);
        assert!(matches!(g.finish(13, &[]), Err(GraphError(m)) if m.contains("`z`")));
    }
}
