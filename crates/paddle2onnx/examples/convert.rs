//! Converts a Paddle model directory to ONNX:
//! `cargo run -p paddle2onnx --release --example convert -- MODEL_DIR OUT.onnx [OPSET]`.

use std::io::BufWriter;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: convert MODEL_DIR OUT.onnx [OPSET]");
        return ExitCode::from(2);
    }
    let mut options = paddle2onnx::Options::default();
    if let Some(opset) = args.get(3).and_then(|s| s.parse().ok()) {
        options.opset = opset;
    }
    let result = std::fs::File::create(&args[2])
        .map_err(|e| e.to_string())
        .and_then(|file| {
            let mut out = BufWriter::new(file);
            paddle2onnx::convert_dir(Path::new(&args[1]), &options, &mut out)
                .map_err(|e| e.to_string())
        });
    match result {
        Ok(summary) => {
            println!("{summary:?}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
