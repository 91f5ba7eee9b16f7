//! Every file of the JPEG corpus (`tests/data/jpeg`, see its README) decodes
//! to exactly the pixels `cv2.imread(path, IMREAD_COLOR)` gives: the same
//! size and the same SHA-256 of the RGB bytes, EXIF orientation applied.
//! Files cv2.imread cannot read must be errors here too.

use std::path::Path;

use paddlex::imaging::decode::{decode_file, jpeg::simd_in_use};
use sha2::{Digest, Sha256};

#[test]
fn every_corpus_file_matches_cv2_imread() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jpeg");
    let expected = std::fs::read_to_string(dir.join("expected.txt")).unwrap();
    let (mut total, mut failures) = (0, Vec::new());
    for line in expected
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let name = fields[0];
        total += 1;
        let got = decode_file(&dir.join("corpus").join(name));
        match (fields.as_slice(), got) {
            ([_, "none"], Err(_)) => {}
            ([_, "none"], Ok(img)) => failures.push(format!(
                "{name}: decoded {:?}, cv2 gives None",
                img.dimensions()
            )),
            ([_, w, h, hash], Ok(img)) => {
                let dims = format!("{}x{}", img.width(), img.height());
                let digest = format!("{:x}", Sha256::digest(img.as_raw()));
                if dims != format!("{w}x{h}") || digest != *hash {
                    failures.push(format!("{name}: {dims} {digest}, cv2 {w}x{h} {hash}"));
                }
            }
            (_, Err(e)) => failures.push(format!("{name}: {e}")),
            (other, _) => panic!("bad line in expected.txt: {other:?}"),
        }
    }
    eprintln!(
        "{} of {total} files equal to cv2.imread (libjpeg-turbo SIMD: {})",
        total - failures.len(),
        simd_in_use()
    );
    assert!(total > 100, "only {total} files in expected.txt");
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
