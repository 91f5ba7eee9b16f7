//! PaddleX's `--device` grammar: `type[:id[,id...]]`.

/// Device types PaddleX knows, as `--device` spells them.
pub(crate) const DEVICE_TYPES: [&str; 7] = ["cpu", "gpu", "xpu", "npu", "mlu", "gcu", "dcu"];

/// A device type PaddleX knows (only the CPU, NVIDIA GPUs and Ascend NPUs
/// have an ONNX Runtime provider here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// The CPU.
    Cpu,
    /// An NVIDIA GPU (CUDA, TensorRT).
    Gpu,
    /// A Kunlun XPU.
    Xpu,
    /// An Ascend NPU (CANN).
    Npu,
    /// A Cambricon MLU.
    Mlu,
    /// An Enflame GCU.
    Gcu,
    /// A Hygon DCU.
    Dcu,
}

impl DeviceKind {
    const ALL: [DeviceKind; 7] = [
        DeviceKind::Cpu,
        DeviceKind::Gpu,
        DeviceKind::Xpu,
        DeviceKind::Npu,
        DeviceKind::Mlu,
        DeviceKind::Gcu,
        DeviceKind::Dcu,
    ];

    /// The name `--device` uses.
    pub(crate) fn as_str(self) -> &'static str {
        DEVICE_TYPES[self as usize]
    }

    /// The kind named `name` (lower case).
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed `--device` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The type.
    pub kind: DeviceKind,
    /// Device ids (empty: the runtime's default).
    pub ids: Vec<u32>,
}

/// Why a device string is wrong (PaddleX's messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// More than one `:`.
    #[error("Invalid device: {0}")]
    Invalid(String),
    /// A non-integer id.
    #[error("Device ID must be an integer. Invalid device ID: {0}")]
    BadId(String),
    /// An id after `cpu`.
    #[error("No Device ID should be specified for CPUs")]
    CpuWithId,
    /// Unknown type.
    #[error("Unsupported device type `{0}`; supported types are {types}", types = DEVICE_TYPES.join(", "))]
    UnknownType(String),
}

impl Device {
    /// The CPU.
    pub(crate) fn cpu() -> Self {
        Device {
            kind: DeviceKind::Cpu,
            ids: Vec::new(),
        }
    }

    /// The first GPU.
    pub(crate) fn gpu() -> Self {
        Device {
            kind: DeviceKind::Gpu,
            ids: vec![0],
        }
    }

    /// Whether this is the CPU.
    pub(crate) fn is_cpu(&self) -> bool {
        self.kind == DeviceKind::Cpu
    }

    /// Parses `type[:id[,id...]]`, case-insensitive type.
    pub(crate) fn parse(text: &str) -> Result<Self, DeviceError> {
        let parts: Vec<&str> = text.split(':').collect();
        if parts.len() > 2 {
            return Err(DeviceError::Invalid(text.into()));
        }
        let kind = DeviceKind::from_name(&parts[0].trim().to_ascii_lowercase())
            .ok_or_else(|| DeviceError::UnknownType(parts[0].into()))?;
        let ids = match parts.get(1) {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|id| {
                    id.trim()
                        .parse::<u32>()
                        .map_err(|_| DeviceError::BadId(id.into()))
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        if kind == DeviceKind::Cpu && !ids.is_empty() {
            return Err(DeviceError::CpuWithId);
        }
        Ok(Device { kind, ids })
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind.as_str())?;
        if !self.ids.is_empty() {
            let ids: Vec<String> = self.ids.iter().map(u32::to_string).collect();
            write!(f, ":{}", ids.join(","))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paddlex_device_strings() {
        assert_eq!(Device::parse("cpu").unwrap(), Device::cpu());
        assert_eq!(
            Device::parse("GPU:0,1").unwrap(),
            Device {
                kind: DeviceKind::Gpu,
                ids: vec![0, 1]
            }
        );
        assert_eq!(Device::parse("gpu").unwrap().ids, Vec::<u32>::new());
        assert_eq!(Device::parse("npu:3").unwrap().to_string(), "npu:3");
    }

    #[test]
    fn rejects_what_paddlex_rejects() {
        assert_eq!(Device::parse("cpu:0").unwrap_err(), DeviceError::CpuWithId);
        assert_eq!(
            Device::parse("gpu:a").unwrap_err().to_string(),
            "Device ID must be an integer. Invalid device ID: a"
        );
        assert_eq!(
            Device::parse("gpu:0:1").unwrap_err().to_string(),
            "Invalid device: gpu:0:1"
        );
        assert!(Device::parse("tpu")
            .unwrap_err()
            .to_string()
            .contains("cpu, gpu, xpu, npu, mlu, gcu, dcu"));
    }
}
