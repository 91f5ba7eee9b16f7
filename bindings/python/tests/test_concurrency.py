"""Threads, the GIL, pickling, processes."""

import multiprocessing
import os
import pickle
import threading
import time

import numpy as np
import pytest

from conftest import FIXTURE_NAME


def summary(results):
    return [(r["input_path"], r["class_ids"].tolist(), r["scores"].tolist()) for r in results]


def test_one_pipeline_shared_by_four_threads(doc_pipeline, in_imgs):
    inputs = [f"imgs/{n}" for n in ["doc_0.png", "doc_90.png", "chelsea.png", "coffee.png", "rocket.jpg"]] * 2
    want = summary(doc_pipeline.predict(inputs))
    got = [None] * 4
    errors = []

    def work(i):
        try:
            got[i] = summary(doc_pipeline.predict(inputs))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(g == want for g in got)


def test_interleaved_generators_of_one_pipeline(doc_pipeline, in_imgs):
    a = doc_pipeline.predict(["imgs/doc_0.png"] * 9)
    b = doc_pipeline.predict(["imgs/doc_90.png"] * 9)
    pairs = list(zip(a, b))
    assert len(pairs) == 9
    assert {p[0]["label_names"][0] for p in pairs} == {"0"}


def test_the_gil_is_released_while_predicting(doc_pipeline, in_imgs):
    inputs = ["imgs/astronaut.png", "imgs/rocket.jpg", "imgs/chelsea.png", "imgs/coffee.png"] * 3
    ticks = 0
    stop = threading.Event()

    def counter():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    t = threading.Thread(target=counter)
    t.start()
    start_ticks = ticks
    began = time.perf_counter()
    list(doc_pipeline.predict(inputs))
    elapsed = time.perf_counter() - began
    stop.set()
    t.join()
    # With the GIL held for the whole call the counter would barely move.
    assert ticks - start_ticks >= max(5, int(elapsed * 1000 * 0.1)), (ticks, elapsed)


def test_results_pickle(fixture_pipeline, in_imgs):
    (res,) = fixture_pipeline.predict("imgs/chelsea.png")
    back = pickle.loads(pickle.dumps(res))
    assert type(back) is type(res)
    assert list(back.keys()) == list(res.keys())
    assert back.json == res.json
    assert np.array_equal(back["input_img"], res["input_img"])
    assert back["class_ids"].dtype == np.int32


def _classify_in_child(model_dir, path, queue):
    import paddlex_rs

    model = paddlex_rs.create_model(FIXTURE_NAME, model_dir)
    queue.put(list(model.predict(path)))


def test_results_cross_a_spawned_process(fixture_model, fixture_pipeline, in_imgs):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    path = str(in_imgs / "imgs" / "chelsea.png")
    proc = ctx.Process(target=_classify_in_child, args=(str(fixture_model), path, queue))
    proc.start()
    (res,) = queue.get(timeout=300)
    proc.join(timeout=60)
    assert proc.exitcode == 0
    (here,) = fixture_pipeline.predict(path)
    assert type(res).__name__ == "TopkResult"
    assert res.json == here.json


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_pipeline_used_after_fork_raises_a_clear_error(fixture_pipeline, in_imgs):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(r)
        try:
            next(fixture_pipeline.predict("imgs/chelsea.png"))
            msg = b"no error"
        except RuntimeError as e:
            msg = str(e).encode()
        except BaseException as e:  # noqa: BLE001
            msg = repr(e).encode()
        os.write(w, msg)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        msg = f.read().decode()
    os.waitpid(pid, 0)
    assert "create the pipeline in the child process" in msg
