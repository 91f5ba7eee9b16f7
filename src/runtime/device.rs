//! PaddleX's `--device` grammar: `type[:id[,id...]]`.

/// Device types PaddleX knows.
pub const DEVICE_TYPES: [&str; 7] = ["cpu", "gpu", "xpu", "npu", "mlu", "gcu", "dcu"];

/// A parsed `--device` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Lower-cased type, one of [`DEVICE_TYPES`].
    pub kind: String,
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
    pub fn cpu() -> Self {
        Device {
            kind: "cpu".into(),
            ids: Vec::new(),
        }
    }

    /// Parses `type[:id[,id...]]`, case-insensitive type.
    pub fn parse(text: &str) -> Result<Self, DeviceError> {
        let parts: Vec<&str> = text.split(':').collect();
        if parts.len() > 2 {
            return Err(DeviceError::Invalid(text.into()));
        }
        let kind = parts[0].trim().to_ascii_lowercase();
        if !DEVICE_TYPES.contains(&kind.as_str()) {
            return Err(DeviceError::UnknownType(parts[0].into()));
        }
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
        if kind == "cpu" && !ids.is_empty() {
            return Err(DeviceError::CpuWithId);
        }
        Ok(Device { kind, ids })
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.kind)?;
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
                kind: "gpu".into(),
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
