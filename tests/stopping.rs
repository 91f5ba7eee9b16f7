//! Batch runs that stop early: a closed stdout (`| head -1`) ends the run at
//! once and quietly; SIGINT and SIGTERM stop taking inputs, finish what is in
//! flight, print the summary and exit 130 / 143, leaving no temporary files.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// How many inputs each run gets: far more than are done before it stops.
const INPUTS: usize = 300;

/// `dir/imgs` with `INPUTS` small PNGs, and a pipeline YAML (batch size 2).
fn setup(dir: &Path) -> PathBuf {
    let imgs = dir.join("imgs");
    std::fs::create_dir_all(&imgs).unwrap();
    for i in 0..INPUTS {
        let shade = (i % 250) as u8;
        image::RgbImage::from_pixel(64, 48, image::Rgb([shade, 255 - shade, 90]))
            .save(imgs.join(format!("img_{i:04}.png")))
            .unwrap();
    }
    pipeline_yaml(dir, "PP-LCNet_x1_0_doc_ori", None, 2, "1")
}

/// Starts the binary on `imgs/` with stdout and stderr piped.
fn start(dir: &Path, yaml: &Path, format: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_paddlex"))
        .current_dir(dir)
        .env("PADDLE_PDX_CACHE_HOME", shared_cache())
        .env_remove("ORT_DYLIB_PATH")
        .args([
            "--pipeline",
            yaml.to_str().unwrap(),
            "--input",
            "imgs",
            "--save_path",
            "out",
            "--format",
            format,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start paddlex")
}

/// Waits up to `limit` for `child`; kills it (and fails) past that.
fn wait_bounded(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running {limit:?} after its stdout was closed or it was signalled");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The names of the files in `dir/out`.
fn saved(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir.join("out")) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn saved_results(dir: &Path) -> usize {
    saved(dir)
        .iter()
        .filter(|n| n.ends_with("_res.json"))
        .count()
}

/// Reads one line of stdout, closes it, and checks that the run ended
/// soon, with exit code 0, without an error and without doing the rest.
fn closed_after_one_line(format: &str) {
    let dir = tempfile::tempdir().unwrap();
    let yaml = setup(dir.path());
    let mut child = start(dir.path(), &yaml, format);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(!first.is_empty(), "no first line");
    drop(stdout);
    let stderr = child.stderr.take().unwrap();
    let status = wait_bounded(&mut child, Duration::from_secs(120));
    let err = std::io::read_to_string(stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(!err.contains("Error"), "quiet: {err}");
    let done = saved_results(dir.path());
    assert!(
        done < INPUTS / 2,
        "{done} of {INPUTS} inputs processed after stdout was closed"
    );
}

#[test]
fn a_closed_stdout_stops_a_jsonl_run_at_once_and_quietly() {
    closed_after_one_line("jsonl");
}

#[test]
fn a_closed_stdout_stops_a_csv_run_at_once_and_quietly() {
    closed_after_one_line("csv");
}

/// Signals the run once its first result is out; checks that it finished
/// what was in flight, printed the summary, left no temporary file and
/// exited with `code`.
fn signalled(signal: &str, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let yaml = setup(dir.path());
    let mut child = start(dir.path(), &yaml, "jsonl");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(!first.is_empty(), "no first line");
    // Straight to the child: a background job of a non-interactive shell
    // would have SIGINT ignored.
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success());
    let rest: Vec<String> = stdout.lines().map(Result::unwrap).collect();
    let stderr = child.stderr.take().unwrap();
    let status = wait_bounded(&mut child, Duration::from_secs(120));
    let err = std::io::read_to_string(stderr).unwrap();
    assert_eq!(status.code(), Some(code), "{err}");
    let reported = 1 + rest.len();
    assert!(
        reported < INPUTS,
        "all {INPUTS} inputs were processed: the signal came too late"
    );
    assert!(
        err.contains(&format!("SIG{signal}: stopped taking inputs")),
        "{err}"
    );
    assert!(
        err.contains(&format!("Done: {reported} processed, 0 failed, 0 skipped")),
        "{err}"
    );
    assert_eq!(
        saved_results(dir.path()),
        reported,
        "every result reported was saved"
    );
    let names = saved(dir.path());
    let visuals = names.iter().filter(|n| n.ends_with("_res.png")).count();
    assert_eq!(visuals, reported, "with its visualisation");
    assert!(
        names.iter().all(|n| !n.ends_with(".part")),
        "temporary files left: {names:?}"
    );
}

#[test]
fn sigterm_finishes_the_results_in_flight_and_exits_143() {
    signalled("TERM", 143);
}

#[test]
fn sigint_finishes_the_results_in_flight_and_exits_130() {
    signalled("INT", 130);
}
