"""Results against the real PaddleX: the 3.3.13 Python API goldens
(``data/pyapi_3313``) and the CLI goldens of the document-orientation model."""

import json

import numpy as np
import pytest

import paddlex_rs

from conftest import EXPECTED, FIXTURE_NAME
from helpers import read_bgr

# The fixture's tolerance (tests/data/paddle/pplcnet_p33/case.json): ONNX
# Runtime vs Paddle Inference, float32.
SCORE_TOL = 1.5e-4


def assert_same(got, want, name):
    assert got["input_path"] == want["input_path"], name
    assert got["page_index"] == want["page_index"], name
    assert got["class_ids"] == want["class_ids"], name
    assert got["label_names"] == want["label_names"], name
    assert len(got["scores"]) == len(want["scores"]), name
    for g, w in zip(got["scores"], want["scores"]):
        assert abs(g - w) <= SCORE_TOL, f"{name}: {got['scores']} vs {want['scores']}"


def test_pipeline_results_equal_paddlex_3313(fixture_pipeline, goldens, in_imgs):
    names = list(goldens["photos"])
    results = list(fixture_pipeline.predict([f"imgs/{n}" for n in names]))
    assert len(results) == len(names)
    for name, res in zip(names, results):
        assert_same(res.json["res"], goldens["photos"][name]["json"], name)


def test_topk_per_call_equals_paddlex(fixture_pipeline, goldens, in_imgs):
    names = list(goldens["topk2"])
    for name, res in zip(names, fixture_pipeline.predict([f"imgs/{n}" for n in names], topk=2)):
        assert_same(res.json["res"], goldens["topk2"][name], name)


def test_bgr_array_equals_paddlex(fixture_pipeline, goldens, in_imgs):
    (res,) = fixture_pipeline.predict(read_bgr(in_imgs / "imgs" / "chelsea.png"))
    assert_same(res.json["res"], goldens["array_chelsea"], "array")


def test_create_model_equals_paddlex(fixture_model, goldens, in_imgs):
    model = paddlex_rs.create_model(FIXTURE_NAME, str(fixture_model))
    names = list(goldens["create_model"])
    for name, res in zip(names, model.predict([f"imgs/{n}" for n in names])):
        assert_same(res.json["res"], goldens["create_model"][name], name)


def test_print_json_format_equals_paddlex(fixture_pipeline, goldens, in_imgs, capfd, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    names = list(goldens["photos"])
    for name, res in zip(names, fixture_pipeline.predict([f"imgs/{n}" for n in names])):
        res.print(json_format=True)
        got = capfd.readouterr().err
        want = goldens["photos"][name]["print_json_format"]
        # Scores may differ in the last digits (ONNX Runtime vs Paddle); the
        # rest of the text must be identical, and all of it when they agree.
        if json.loads(got) == json.loads(want):
            assert got == want, name
        else:
            assert _same_but_scores(got, want), name


def _same_but_scores(got, want):
    g, w = json.loads(got)["res"], json.loads(want)["res"]
    try:
        assert_same(g, w, "print")
    except AssertionError:
        return False
    return got.count("\n") == want.count("\n")


def test_saved_json_format_equals_paddlex(fixture_pipeline, goldens, in_imgs, tmp_path):
    (res,) = fixture_pipeline.predict("imgs/chelsea.png")
    res.save_to_json(str(tmp_path))
    text = (tmp_path / "chelsea_res.json").read_text(encoding="utf-8")
    want = goldens["saved_json_chelsea"]
    assert not text.endswith("\n") and not want.endswith("\n")
    if text != want:
        assert_same(json.loads(text), json.loads(want), "saved")
        assert text.count("\n") == want.count("\n")


DOC_PHOTOS = ["doc_0.png", "doc_90.png", "doc_180.png", "doc_270.png", "chelsea.png", "coffee.png"]


def doc_golden(name):
    for line in (EXPECTED / "doc_ori.golden.jsonl").read_text().splitlines():
        g = json.loads(line)
        if g["image"] in (name, f"sk_{name}"):
            return g
    raise AssertionError(f"no golden for {name}")


def test_doc_ori_results_equal_paddlex_cli_goldens(doc_pipeline, in_imgs):
    results = list(doc_pipeline.predict("imgs"))
    by_name = {r["input_path"].split("/")[-1]: r for r in results}
    assert [r["input_path"] for r in results] == sorted(r["input_path"] for r in results)
    for name in DOC_PHOTOS:
        res, want = by_name[name], doc_golden(name)
        assert res["class_ids"].tolist() == want["class_ids"], name
        assert res["label_names"] == want["label_names"], name
        assert np.allclose(res["scores"], want["scores"], atol=1e-4, rtol=0), name


@pytest.mark.parametrize("name", ["doc_90.png", "chelsea.png"])
def test_doc_ori_array_equals_file(doc_pipeline, in_imgs, name):
    (from_file,) = doc_pipeline.predict(f"imgs/{name}")
    (from_array,) = doc_pipeline.predict(read_bgr(in_imgs / "imgs" / name))
    assert from_array["input_path"] is None
    assert from_array["class_ids"].tolist() == from_file["class_ids"].tolist()
    assert from_array["scores"].tolist() == from_file["scores"].tolist()
    assert np.array_equal(from_array["input_img"], from_file["input_img"])
