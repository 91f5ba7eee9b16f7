//! `paddlex --serve`: the real binary on a free loopback port, checked
//! against the responses of the real PaddleX 3.3 server
//! (`tests/data/serving`): bodies, status codes and key order; then URL
//! inputs, limits (413, 503), a mixed load, access log and shutdown.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::files::{self, FileServer};
use common::server::*;
use common::*;
use serde_json::{json, Value};

const DOC_ORI: &str = "PP-LCNet_x1_0_doc_ori";

/// A pipeline YAML for the document-orientation model (4 classes, quick).
fn doc_ori_yaml(dir: &std::path::Path) -> String {
    let path = pipeline_yaml(dir, DOC_ORI, None, 4, "5");
    path_str(&path).to_string()
}

fn start_doc_ori(envs: &[(&str, &str)]) -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let yaml = doc_ori_yaml(dir.path());
    let server = TestServer::start(&yaml, envs);
    (dir, server)
}

fn image_body(photo_name: &str, extra: &str) -> String {
    format!("{{\"image\": \"{}\"{extra}}}", photo_b64(photo_name))
}

/// The (id, name, score) of the golden top-k of a doc_ori photo.
fn golden_categories(photo_name: &str) -> Value {
    let g = golden("doc_ori.golden.jsonl")
        .into_iter()
        .find(|g| g.image == photo_name)
        .expect("golden entry");
    let cats: Vec<Value> = g
        .class_ids
        .iter()
        .zip(&g.label_names)
        .zip(&g.scores)
        .map(|((id, name), score)| json!({"id": id, "name": name, "score": score}))
        .collect();
    Value::Array(cats)
}

fn assert_envelope(reply: &Reply, status: u16) -> Value {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.content_type, "application/json");
    let v = reply.json();
    let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["logId", "errorCode", "errorMsg"], "{}", reply.body);
    assert_eq!(v["errorCode"], json!(status));
    v
}

#[test]
fn health_and_success_bodies_match_paddlex() {
    let (_dir, server) = start_doc_ori(&[]);

    let health = server.get("/health");
    assert_eq!(health.status, reference_status("resp_health.txt"));
    assert_eq!(health.content_type, "application/json");
    assert_eq!(
        normalize(&health.body),
        normalize(&reference("resp_health.txt"))
    );
    assert!(is_uuid4(health.json()["logId"].as_str().unwrap()));

    // Serving.visualize defaults to true: categories and the JPEG, in PaddleX's key order.
    let ok = server.post("/image-classification", image_body("doc_180.png", ""));
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.content_type, "application/json");
    let expected = reference("resp_ok.json");
    assert_eq!(normalize(&ok.body), normalize(&expected));
    let (ours, theirs) = (ok.json(), serde_json::from_str::<Value>(&expected).unwrap());
    assert_eq!(ours["result"]["categories"], theirs["result"]["categories"]);
    assert!(is_uuid4(ours["logId"].as_str().unwrap()));
    compare_visualisations(&ours["result"]["image"], &theirs["result"]["image"]);

    let novis = server.post(
        "/image-classification",
        image_body("doc_180.png", ", \"topk\": 2, \"visualize\": false"),
    );
    assert_eq!(novis.status, 200);
    assert_eq!(
        normalize(&novis.body),
        normalize(&reference("resp_topk2_novis.json"))
    );
    assert!(!novis.body.contains("\"image\""), "absent, not null");

    // pydantic's lax values: "1" and 1.0 are integers, "no" is false.
    let lax = server.post(
        "/image-classification",
        image_body(
            "doc_0.png",
            ", \"topk\": \"1\", \"visualize\": \"no\", \"extra\": [1]",
        ),
    );
    assert_eq!(lax.status, 200, "{}", lax.body);
    let cats = &lax.json()["result"]["categories"];
    assert_eq!(
        cats,
        &Value::Array(vec![golden_categories("doc_0.png")[0].clone()])
    );
}

/// Our JPEG against PaddleX's: same size, same picture (JPEG encoders and the
/// label font differ slightly).
fn compare_visualisations(ours: &Value, theirs: &Value) {
    use base64::Engine;
    let decode = |v: &Value| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("image string"))
            .expect("base64");
        assert_eq!(&bytes[..3], b"\xff\xd8\xff", "JPEG");
        image::load_from_memory(&bytes)
            .expect("decodable")
            .to_rgb8()
    };
    let (a, b) = (decode(ours), decode(theirs));
    assert_eq!(a.dimensions(), b.dimensions());
    let diff: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    let mean = diff as f64 / a.as_raw().len() as f64;
    assert!(mean < 3.0, "mean abs difference {mean}");
    // The red label box at the top left.
    let px = a.get_pixel(5, 5).0;
    assert!(px[0] > 200 && px[1] < 60 && px[2] < 60, "{px:?}");
}

#[test]
fn invalid_bodies_get_paddlex_422s_and_routing_errors() {
    let (_dir, server) = start_doc_ori(&[]);
    let cases = [
        ("{\"topk\": 2}".to_string(), "resp_missing_image.json"),
        (image_body("doc_0.png", ", \"topk\": 0"), "resp_topk0.json"),
        ("{\"image\": 123}".to_string(), "resp_wrongtype.txt"),
        ("{\"image\": nope}".to_string(), "resp_malformed.txt"),
    ];
    for (body, reference_name) in cases {
        let reply = server.post("/image-classification", body);
        assert_envelope(&reply, 422);
        assert_eq!(
            normalize(&reply.body),
            normalize(&reference(reference_name)),
            "{reference_name}"
        );
    }
    for body in [
        "",
        "[1, 2]",
        "{\"image\": \"x\", \"topk\": -1}",
        "{\"image\": \"x\", \"topk\": 1.5}",
        "{\"image\": \"x\", \"visualize\": \"maybe\"}",
        "{\"image\": null}",
        "{\"image\": \"x\",}",
    ] {
        let reply = server.post("/image-classification", body);
        let v = assert_envelope(&reply, 422);
        let errors: Value =
            serde_json::from_str(v["errorMsg"].as_str().unwrap()).expect("a JSON list");
        assert!(errors[0]["msg"].is_string(), "{body}: {}", reply.body);
    }

    let get = server.get("/image-classification");
    assert_envelope(&get, reference_status("resp_get.txt"));
    assert_eq!(normalize(&get.body), normalize(&reference("resp_get.txt")));
    assert_eq!(get.allow.as_deref(), Some("POST"));
    let post_health = server.post("/health", "{}");
    assert_envelope(&post_health, 405);
    let missing = server.get("/nope");
    let v = assert_envelope(&missing, 404);
    assert_eq!(v["errorMsg"], "Not Found");
    let openapi = server.get("/openapi.json");
    assert_eq!(openapi.status, 200);
    assert!(openapi.json()["paths"]["/image-classification"]["post"].is_object());
}

#[test]
fn undecodable_images_are_the_clients_fault_and_log_ids_are_echoed() {
    let (_dir, server) = start_doc_ori(&[]);
    // PaddleX answers these two with 500 "Internal server error".
    assert!(reference("resp_bad_base64.json").contains("\"errorCode\":500"));
    let bad_b64 = server.post("/image-classification", "{\"image\": \"aGVsbG8\"}");
    let v = assert_envelope(&bad_b64, 422);
    assert!(
        v["errorMsg"].as_str().unwrap().contains("base64"),
        "{}",
        bad_b64.body
    );
    let not_image = server.post("/image-classification", "{\"image\": \"aGVsbG8gd29ybGQ=\"}");
    let v = assert_envelope(&not_image, 422);
    assert!(
        v["errorMsg"]
            .as_str()
            .unwrap()
            .contains("cannot be decoded"),
        "{}",
        not_image.body
    );
    // A truncated PNG.
    let png = std::fs::read(photo("doc_0.png")).unwrap();
    let truncated = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&png[..png.len() / 3])
    };
    let reply = server.post(
        "/image-classification",
        format!("{{\"image\": \"{truncated}\"}}"),
    );
    assert_envelope(&reply, 422);

    // A client's logId is echoed on errors, a fresh one is used on success.
    let reply = server.post(
        "/image-classification",
        "{\"image\": \"aGk=\", \"logId\": \"client-7\"}",
    );
    assert_eq!(assert_envelope(&reply, 422)["logId"], "client-7");
    let reply = server.post(
        "/image-classification",
        "{\"logId\": \"client-8\", \"topk\": 0}",
    );
    assert_eq!(assert_envelope(&reply, 422)["logId"], "client-8");
    let reply = server.post("/nope", "{\"logId\": \"client-9\"}");
    assert_eq!(assert_envelope(&reply, 404)["logId"], "client-9");
    let reply = server.post(
        "/image-classification",
        image_body(
            "doc_0.png",
            ", \"logId\": \"client-10\", \"visualize\": false",
        ),
    );
    assert_eq!(reply.status, 200);
    assert!(is_uuid4(reply.json()["logId"].as_str().unwrap()));
}

/// Serves `doc_0.png` on loopback after `delay`; `/hang` never answers, other paths 404.
fn file_server(delay: Duration) -> String {
    let png = std::fs::read(photo("doc_0.png")).unwrap();
    FileServer::start(move |path, _| {
        if path == "/hang" {
            std::thread::sleep(Duration::from_secs(30));
            return None;
        }
        std::thread::sleep(delay);
        Some(if path == "/doc_0.png" {
            files::Reply::ok(png.clone())
        } else {
            files::Reply::not_found()
        })
    })
    .base
}

#[test]
fn urls_limits_and_timeouts() {
    let files = file_server(Duration::ZERO);
    let (_dir, server) = start_doc_ori(&[
        ("PADDLEX_RS_SERVE_MAX_BODY_BYTES", "150000"),
        ("PADDLEX_RS_SERVE_FETCH_TIMEOUT_S", "1"),
        // The file server is on loopback.
        ("PADDLEX_RS_SERVE_URL_INPUTS", "all"),
    ]);
    let body = |url: String| json!({"image": url, "visualize": false}).to_string();
    let ok = server.post("/image-classification", body(format!("{files}/doc_0.png")));
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(
        ok.json()["result"]["categories"],
        golden_categories("doc_0.png")
    );

    let missing = server.post(
        "/image-classification",
        body(format!("{files}/missing.png")),
    );
    let v = assert_envelope(&missing, 422);
    assert!(
        v["errorMsg"].as_str().unwrap().contains("HTTP 404"),
        "{}",
        missing.body
    );

    let started = Instant::now();
    let hang = server.post("/image-classification", body(format!("{files}/hang")));
    let v = assert_envelope(&hang, 422);
    assert!(
        v["errorMsg"].as_str().unwrap().contains("timed out"),
        "{}",
        hang.body
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    // doc_180.png in base64 is ~178 kB: over the 150 kB limit.
    let big = server.post("/image-classification", image_body("doc_180.png", ""));
    let v = assert_envelope(&big, 413);
    assert!(v["errorMsg"].as_str().unwrap().contains("150000"));
    // The server still works.
    let small = server.post("/image-classification", image_body("line_0.png", ""));
    assert_eq!(small.status, 200, "{}", small.body);
}

#[test]
fn a_full_queue_answers_503() {
    let (_dir, server) = start_doc_ori(&[("PADDLEX_RS_SERVE_MAX_PENDING", "1")]);
    let body = image_body("doc_0.png", ", \"visualize\": true");
    let url = format!("{}/image-classification", server.base);
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let (url, body) = (url.clone(), body.clone());
            std::thread::spawn(move || {
                let c = client();
                (0..4)
                    .map(|_| Reply::from(c.post(&url).body(body.clone()).send().unwrap()))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let replies: Vec<Reply> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let busy = replies.iter().filter(|r| r.status == 503).count();
    let ok = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(busy + ok, replies.len());
    assert!(busy > 0 && ok > 0, "{busy} busy, {ok} ok");
    for r in replies.iter().filter(|r| r.status == 503) {
        assert_envelope(r, 503);
    }
}

/// One request of the mixed load and what must come back.
fn mixed_case(i: usize, photos: &[(&'static str, String, Value)]) -> (String, u16, Option<Value>) {
    match i % 8 {
        0..=3 => {
            let (_, b64, cats) = &photos[i % 4];
            let body = json!({"image": b64, "visualize": i.is_multiple_of(16)}).to_string();
            (body, 200, Some(cats.clone()))
        }
        4 => {
            let garbage: Vec<u8> = (0..500).map(|j| ((i * 31 + j * 7) % 251) as u8).collect();
            use base64::Engine;
            let b64 = base64::engine::general_purpose::STANDARD.encode(garbage);
            (json!({"image": b64}).to_string(), 422, None)
        }
        5 => ("{\"image\": \"x\", \"topk\": 0".into(), 422, None),
        6 => (json!({"image": [1, 2, 3]}).to_string(), 422, None),
        _ => ("{\"image\": \"aGVsbG8\"}".into(), 422, None),
    }
}

#[test]
fn mixed_load_of_good_and_garbage_requests_has_no_wrong_answer() {
    let (_dir, server) = start_doc_ori(&[]);
    let photos: Vec<(&'static str, String, Value)> =
        ["doc_0.png", "doc_90.png", "doc_180.png", "doc_270.png"]
            .into_iter()
            .map(|n| (n, photo_b64(n), golden_categories(n)))
            .collect();
    let photos = std::sync::Arc::new(photos);
    let url = format!("{}/image-classification", server.base);
    let deadline = Instant::now() + Duration::from_secs(180);
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let (url, photos) = (url.clone(), photos.clone());
            std::thread::spawn(move || {
                let c = client();
                let mut wrong = Vec::new();
                let mut done = 0;
                for i in (t..240).step_by(6) {
                    if Instant::now() > deadline {
                        break;
                    }
                    let (body, status, cats) = mixed_case(i, &photos);
                    let reply = Reply::from(c.post(&url).body(body).send().unwrap());
                    done += 1;
                    let right = reply.status == status
                        && match &cats {
                            Some(cats) => reply.json()["result"]["categories"] == *cats,
                            None => reply.json()["errorCode"] == json!(status),
                        };
                    if !right {
                        wrong.push(format!(
                            "request {i}: {} {}",
                            reply.status,
                            &reply.body[..reply.body.len().min(300)]
                        ));
                    }
                }
                (done, wrong)
            })
        })
        .collect();
    let mut total = 0;
    for t in threads {
        let (done, wrong) = t.join().unwrap();
        total += done;
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
    assert_eq!(total, 240, "all requests done within the time bound");
    // One access line per request (health checks are not logged).
    let _ = server.get("/health");
    std::thread::sleep(Duration::from_millis(200));
    let log = server.stdout();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 240, "{log}");
    assert!(lines.iter().all(|l| l.starts_with("INFO:     127.0.0.1:")));
    assert!(log.contains("\"POST /image-classification HTTP/1.1\" 200 OK"));
    assert!(log.contains("\"POST /image-classification HTTP/1.1\" 422 Unprocessable Entity"));
    assert!(!log.contains("/health"));
    // The layout of uvicorn's lines, as the real server wrote them (ports differ).
    let without_port = |l: &str| {
        let (head, tail) = l.split_once(" - ").unwrap_or((l, ""));
        format!(
            "{}:PORT - {tail}",
            head.rsplit_once(':').map_or(head, |(h, _)| h)
        )
    };
    let theirs = std::fs::read_to_string(data_dir().join("serving/server_stdout.txt")).unwrap();
    let ours = lines.iter().map(|l| without_port(l)).collect::<Vec<_>>();
    // The statuses this load produces (their 500s are our 422s).
    let kinds = theirs
        .lines()
        .filter(|l| l.contains("\"POST /image-classification "))
        .filter(|l| l.contains("\" 200 ") || l.contains("\" 422 "));
    for line in kinds.map(without_port) {
        assert!(ours.contains(&line), "{line} not among ours");
    }
}

#[test]
fn the_default_pipeline_serves_efficientnet() {
    let server = TestServer::start("image_classification", &[]);
    let reply = server.post(
        "/image-classification",
        image_body("chelsea.png", ", \"visualize\": false"),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let g = golden("imagenet_efficientnet_lite0.golden.jsonl")
        .into_iter()
        .find(|g| g.image.ends_with("chelsea.png"))
        .expect("golden chelsea");
    let cats = reply.json()["result"]["categories"].clone();
    let names: Vec<&str> = cats
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, g.label_names);
    assert!(
        reply.body.contains("\"score\":0.38877999782562256"),
        "{}",
        reply.body
    );
}

#[test]
fn sigterm_finishes_requests_in_flight_then_exits_0() {
    let files = file_server(Duration::from_millis(1500));
    let (_dir, mut server) = start_doc_ori(&[("PADDLEX_RS_SERVE_URL_INPUTS", "all")]);
    let url = format!("{}/image-classification", server.base);
    let body = json!({"image": format!("{files}/doc_0.png"), "visualize": false}).to_string();
    let in_flight =
        std::thread::spawn(move || Reply::from(client().post(url).body(body).send().unwrap()));
    std::thread::sleep(Duration::from_millis(500));
    server.terminate();
    let reply = in_flight.join().unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let status = server
        .wait(Duration::from_secs(20))
        .expect("the server exits");
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
    let err = server.stderr();
    assert!(err.contains("INFO:     Shutting down"), "{err}");
    assert!(err.contains("INFO:     Finished server process"), "{err}");
    // Nothing listens any more.
    assert!(client()
        .get(format!("{}/health", server.base))
        .send()
        .is_err());
}

#[test]
fn serve_needs_a_pipeline_and_a_free_port() {
    let out = paddlex().arg("--serve").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("--serve needs --pipeline"));
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let yaml = doc_ori_yaml(dir.path());
    let out = paddlex()
        .args([
            "--serve",
            "--pipeline",
            &yaml,
            "--host",
            "127.0.0.1",
            "--port",
            &port,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{}",
        stderr_of(&out)
    );
}
