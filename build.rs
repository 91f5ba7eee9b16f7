//! Says so when libjpeg-turbo (built by `mozjpeg-sys`) will lack its SIMD
//! code: `mozjpeg-sys` then builds without it silently (warnings of
//! registry crates are not shown), and JPEG decoding is about 2.5x slower.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if arch != "x86_64" && arch != "x86" {
        return;
    }
    let nasm = std::process::Command::new("nasm").arg("-v").output();
    if !nasm.is_ok_and(|out| out.status.success()) {
        println!(
            "cargo:warning=nasm not found: JPEG decoding is built without libjpeg-turbo's SIMD \
             (same pixels, about 2.5x slower). Install nasm, then `cargo clean -p mozjpeg-sys`."
        );
    }
}
