//! `paddlex --serve` as a child process on a free loopback port (`--port 0`,
//! the address read from its startup line), with an HTTP client for it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::shared_cache;

/// A running server; killed on drop if still running.
pub struct TestServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    /// Held open and never read (see [`TestServer::start_stdout_unread`]).
    _unread_stdout: Option<ChildStdout>,
}

impl TestServer {
    /// Starts `paddlex --serve --pipeline <pipeline>` with extra environment variables.
    pub fn start(pipeline: &str, envs: &[(&str, &str)]) -> TestServer {
        Self::start_with(None, pipeline, envs, true)
    }

    /// As [`TestServer::start`] with another `paddlex` binary (`None`: this
    /// build's), for benchmarks comparing builds.
    pub fn start_binary(
        binary: Option<&Path>,
        pipeline: &str,
        envs: &[(&str, &str)],
    ) -> TestServer {
        Self::start_with(binary, pipeline, envs, true)
    }

    /// As [`TestServer::start`], with a stdout pipe that nobody reads: once
    /// its buffer is full, every write to stdout blocks.
    pub fn start_stdout_unread(pipeline: &str, envs: &[(&str, &str)]) -> TestServer {
        Self::start_with(None, pipeline, envs, false)
    }

    fn start_with(
        binary: Option<&Path>,
        pipeline: &str,
        envs: &[(&str, &str)],
        read_stdout: bool,
    ) -> TestServer {
        let this_build = Path::new(env!("CARGO_BIN_EXE_paddlex"));
        let mut cmd = Command::new(binary.unwrap_or(this_build));
        cmd.args([
            "--serve",
            "--pipeline",
            pipeline,
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ])
        .env("PADDLE_PDX_CACHE_HOME", shared_cache())
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("ORT_DYLIB_PATH")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start paddlex --serve");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        let sink = Arc::clone(&stdout);
        let unread = if read_stdout {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    sink.lock().unwrap().push_str(&format!("{line}\n"));
                }
            });
            None
        } else {
            Some(out)
        };
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("running on http://").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap_or_default();
                    let _ = addr_tx.send(addr.to_string());
                }
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        // The first server of a run may provision the runtime and the model.
        let addr = match addr_rx.recv_timeout(Duration::from_secs(600)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the server did not start:\n{}", stderr.lock().unwrap());
            }
        };
        TestServer {
            child,
            base: format!("http://{addr}"),
            stdout,
            stderr,
            _unread_stdout: unread,
        }
    }

    /// Everything the server wrote to stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Everything the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_string()
    }

    /// Resident memory now (`VmRSS`), KiB.
    pub fn rss_kib(&self) -> u64 {
        proc_status_kib(self.pid(), "VmRSS:")
    }

    /// Peak resident memory (`VmHWM`) since start or [`TestServer::reset_peak`], KiB.
    pub fn peak_kib(&self) -> u64 {
        proc_status_kib(self.pid(), "VmHWM:")
    }

    /// Resets the peak to the current resident size.
    pub fn reset_peak(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").expect("reset VmHWM");
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then waits for the exit.
    pub fn stop(mut self) {
        self.terminate();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the reader threads catch the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// POSTs `body` to `path`.
    pub fn post(&self, path: &str, body: impl Into<Vec<u8>>) -> Reply {
        let response = client()
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.into())
            .send()
            .expect("POST");
        Reply::from(response)
    }

    /// GETs `path`.
    pub fn get(&self, path: &str) -> Reply {
        let response = client()
            .get(format!("{}{path}", self.base))
            .send()
            .expect("GET");
        Reply::from(response)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A blocking client (no proxy: loopback only).
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client")
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `content-type`.
    pub content_type: String,
    /// `allow`, if sent.
    pub allow: Option<String>,
    /// The body as text.
    pub body: String,
}

impl From<reqwest::blocking::Response> for Reply {
    fn from(r: reqwest::blocking::Response) -> Self {
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type").unwrap_or_default();
        let allow = header("allow");
        let status = r.status().as_u16();
        let body = r.text().expect("body");
        Reply {
            status,
            content_type,
            allow,
            body,
        }
    }
}

impl Reply {
    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// The body of a committed reference response (`tests/data/serving`); for
/// `.txt` captures (status line and headers first), the last line.
pub fn reference(name: &str) -> String {
    let path = super::data_dir().join("serving").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if name.ends_with(".txt") {
        text.lines().last().unwrap_or_default().to_string()
    } else {
        text
    }
}

/// The status code of a `.txt` reference capture.
pub fn reference_status(name: &str) -> u16 {
    let path = super::data_dir().join("serving").join(name);
    let text = std::fs::read_to_string(path).expect("reference");
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line")
}

/// Replaces the `logId` value (and a base64 `image`) with placeholders, so
/// bodies compare byte for byte in structure and key order.
pub fn normalize(body: &str) -> String {
    let mut out = replace_string_value(body, "\"logId\":\"", "<logId>");
    out = replace_string_value(&out, "\"image\":\"", "<image>");
    out
}

fn replace_string_value(text: &str, key: &str, placeholder: &str) -> String {
    let Some(start) = text.find(key).map(|i| i + key.len()) else {
        return text.to_string();
    };
    let Some(len) = text[start..].find('"') else {
        return text.to_string();
    };
    format!("{}{placeholder}{}", &text[..start], &text[start + len..])
}

/// Whether `id` is a hyphenated UUID version 4.
pub fn is_uuid4(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    lens == [8, 4, 4, 4, 12]
        && id.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
        && parts[2].starts_with('4')
}

/// Base64 (standard, padded) of a committed photo.
pub fn photo_b64(name: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .encode(std::fs::read(super::photo(name)).expect("photo"))
}

/// A `Path` as `&str`.
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// A `/proc/<pid>/status` field in KiB (a missing field fails the caller:
/// memory assertions must not pass on a 0).
pub fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("a /proc status field")
}
