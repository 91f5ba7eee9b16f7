"""PaddleX's API shape: types, laziness, errors, keywords, inputs."""

import inspect

import numpy as np
import pytest

import paddlex_rs

from conftest import FIXTURE_NAME, pipeline_yaml
from helpers import read_bgr, read_rgb


def test_predict_returns_a_lazy_generator(fixture_pipeline, in_imgs):
    gen = fixture_pipeline.predict("imgs/does-not-exist.png")
    assert inspect.isgenerator(gen)
    # Nothing is read before next(): the missing file fails there.
    with pytest.raises(FileNotFoundError):
        next(gen)
    # After an error the generator is finished.
    with pytest.raises(StopIteration):
        next(gen)
    assert inspect.isgenerator(fixture_pipeline("imgs/chelsea.png"))


def test_errors_surface_at_the_failing_item(fixture_pipeline, in_imgs, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png at all")
    gen = fixture_pipeline.predict(["imgs/chelsea.png", str(bad), "imgs/coffee.png"])
    first = next(gen)
    assert first["input_path"] == "imgs/chelsea.png"
    with pytest.raises(paddlex_rs.PredictError, match="Image read Error: .*broken.png"):
        next(gen)
    assert isinstance(paddlex_rs.PredictError("x"), Exception)


def test_result_types_and_key_order(fixture_pipeline, goldens, in_imgs):
    (res,) = fixture_pipeline.predict("imgs/chelsea.png")
    want = goldens["type"]
    assert type(res).__name__ == want["result_class"] == "TopkResult"
    assert isinstance(res, dict) and want["is_dict"]
    assert list(res.keys()) == want["keys"]
    assert str(res["class_ids"].dtype) == want["class_ids_dtype"] == "int32"
    assert str(res["scores"].dtype) == want["scores_dtype"] == "float32"
    assert res["class_ids"].shape == res["scores"].shape == (5,)
    assert str(res["input_img"].dtype) == want["input_img_dtype"]
    assert list(res["input_img"].shape) == want["input_img_shape"]
    assert isinstance(res["label_names"], list)
    assert res["page_index"] is None
    # input_img is the RGB decode of the file.
    assert np.array_equal(res["input_img"], read_rgb(in_imgs / "imgs" / "chelsea.png"))
    assert type(res.str).__name__ == want["str_type"] and "input_img" not in res.str["res"]
    assert type(res.json).__name__ == want["json_type"]
    assert type(res.json["res"]["scores"][0]) is float
    assert type(res.json["res"]["class_ids"][0]) is int


def test_create_pipeline_errors():
    with pytest.raises(ValueError, match="Both `pipeline` and `config` cannot be None"):
        paddlex_rs.create_pipeline()
    with pytest.raises(Exception, match=r"The pipeline \(OCR\) does not exist!"):
        paddlex_rs.create_pipeline("OCR")
    with pytest.raises(Exception, match="device"):
        paddlex_rs.create_pipeline("image_classification", device="tpu:0")


def test_model_name_mismatch_is_an_assertion(fixture_model):
    with pytest.raises(AssertionError, match="Model name mismatch"):
        paddlex_rs.create_model("PP-LCNet_x1_0", str(fixture_model))


def test_create_model_rejects_unknown_keywords(fixture_model):
    with pytest.raises(TypeError):
        paddlex_rs.create_model(FIXTURE_NAME, str(fixture_model), foo=1)


def test_model_predict_unknown_keyword_fails_at_next(fixture_model, in_imgs):
    model = paddlex_rs.create_model(FIXTURE_NAME, str(fixture_model))
    gen = model.predict("imgs/chelsea.png", foo=1)
    with pytest.raises(TypeError):
        next(gen)


def test_pipeline_predict_ignores_batch_size_and_device(fixture_pipeline, in_imgs):
    (a,) = fixture_pipeline.predict("imgs/chelsea.png", batch_size=1, device="gpu:3")
    (b,) = fixture_pipeline.predict("imgs/chelsea.png")
    assert a["class_ids"].tolist() == b["class_ids"].tolist()
    assert fixture_pipeline.batch_size == 4


def test_model_batch_size_persists(fixture_model, in_imgs):
    model = paddlex_rs.create_model(FIXTURE_NAME, str(fixture_model))
    assert model.batch_size == 1
    out = list(model.predict(["imgs/chelsea.png"] * 3, batch_size=2))
    assert len(out) == 3
    assert model.batch_size == 2
    list(model.predict("imgs/chelsea.png"))
    assert model.batch_size == 2


def test_topk_defaults(fixture_model, in_imgs, tmp_path):
    # topk in the YAML; per call; 0 falls back to the YAML's.
    yaml = pipeline_yaml(tmp_path, FIXTURE_NAME, fixture_model, 4, "3")
    p = paddlex_rs.create_pipeline(str(yaml))
    assert p.topk == 3
    assert len(next(p.predict("imgs/chelsea.png"))["class_ids"]) == 3
    assert len(next(p.predict("imgs/chelsea.png", topk=2))["class_ids"]) == 2
    assert len(next(p.predict("imgs/chelsea.png", topk=0))["class_ids"]) == 3
    # `topk: null` gives the model's own (inference.yml: 5).
    yaml = pipeline_yaml(tmp_path, FIXTURE_NAME, fixture_model, 4, "null")
    p = paddlex_rs.create_pipeline(str(yaml))
    assert len(next(p.predict("imgs/chelsea.png"))["class_ids"]) == 5
    # create_model: its own topk, else the model's.
    m = paddlex_rs.create_model(FIXTURE_NAME, str(fixture_model), topk=7)
    assert len(next(m.predict("imgs/chelsea.png"))["class_ids"]) == 7
    assert len(next(m.predict("imgs/chelsea.png", topk=1))["class_ids"]) == 1


def test_extra_create_pipeline_arguments_are_ignored(fixture_config):
    p = paddlex_rs.create_pipeline(
        config=fixture_config, pp_option=object(), something_else=1
    )
    assert isinstance(p, paddlex_rs.ImageClassificationPipeline)


# -- arrays ------------------------------------------------------------


def test_array_variants(fixture_pipeline, in_imgs):
    path = in_imgs / "imgs" / "chelsea.png"
    (want,) = fixture_pipeline.predict(str(path))
    bgr = read_bgr(path)
    rgb = read_rgb(path)
    bgra = np.concatenate([bgr, np.full(bgr.shape[:2] + (1,), 255, np.uint8)], axis=2)
    variants = {
        "bgr": bgr,
        "negative stride": rgb[:, :, ::-1],
        "bgra": bgra,
        "fortran order": np.asfortranarray(bgr),
    }
    for name, arr in variants.items():
        (res,) = fixture_pipeline.predict(arr)
        assert res["input_path"] is None, name
        assert res["page_index"] is None, name
        assert res["class_ids"].tolist() == want["class_ids"].tolist(), name
        assert res["scores"].tolist() == want["scores"].tolist(), name
        assert np.array_equal(res["input_img"], want["input_img"]), name
    # A non-contiguous crop is read as it is.
    crop = bgr[10:200:2, 20:300:3]
    (res,) = fixture_pipeline.predict(crop)
    assert np.array_equal(res["input_img"], np.ascontiguousarray(crop[:, :, ::-1]))


def test_bad_arrays_raise_at_their_item(fixture_pipeline, in_imgs):
    grey = np.zeros((32, 32), np.uint8)
    gen = fixture_pipeline.predict(["imgs/chelsea.png", grey])
    assert next(gen)["input_path"] == "imgs/chelsea.png"
    with pytest.raises(ValueError, match="H×W×3"):
        next(gen)
    with pytest.raises(TypeError, match="uint8"):
        next(fixture_pipeline.predict(np.zeros((32, 32, 3), np.float32)))


def test_mixed_list_keeps_order_and_batches(fixture_pipeline, in_imgs):
    arr = read_bgr(in_imgs / "imgs" / "coffee.png")
    inputs = ["imgs/chelsea.png", arr, "imgs/astronaut.png", arr] * 2 + ["imgs/horse.png", arr]
    out = list(fixture_pipeline.predict(inputs))
    assert len(out) == 10
    assert [r["input_path"] for r in out] == [i if isinstance(i, str) else None for i in inputs]


def test_unsupported_input_types_are_skipped_with_paddlex_warning(fixture_pipeline, in_imgs, capfd):
    out = list(fixture_pipeline.predict([42, "imgs/chelsea.png", (1, 2)]))
    assert len(out) == 1
    err = capfd.readouterr().err
    assert "Not supported input data type! Only `numpy.ndarray` and `str` are supported!" in err
    assert list(fixture_pipeline.predict(3.5)) == []


def test_folder_and_pdf_inputs(fixture_pipeline, in_imgs, tmp_path):
    out = list(fixture_pipeline.predict("imgs"))
    paths = [r["input_path"] for r in out]
    assert paths == sorted(paths) and len(paths) == len(list((in_imgs / "imgs").iterdir()))
    pdf = tmp_path / "scan.pdf"
    write_pdf(pdf, [read_rgb(in_imgs / "imgs" / "chelsea.png"), read_rgb(in_imgs / "imgs" / "coffee.png")])
    pages = list(fixture_pipeline.predict(str(pdf)))
    assert [(r["input_path"], r["page_index"]) for r in pages] == [(str(pdf), 0), (str(pdf), 1)]
    assert pages[0]["input_img"].shape == read_rgb(in_imgs / "imgs" / "chelsea.png").shape


def write_pdf(path, images):
    """A PDF with one page per RGB image; a page is half the image's size in
    points, so rendering at scale 2 gives the image's size back."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + i * 3} 0 R" for i in range(len(images)))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(images)} >>".encode())
    for i, img in enumerate(images):
        h, w = img.shape[:2]
        pw, ph = w / 2, h / 2
        page, image_obj, contents = 3 + i * 3, 4 + i * 3, 5 + i * 3
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw} {ph}] /Resources << /XObject << /Im0 {image_obj} 0 R >> >> /Contents {contents} 0 R >>".encode()
        )
        raw = np.ascontiguousarray(img).tobytes()
        objects.append(
            f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length {len(raw)} >>\nstream\n".encode()
            + raw
            + b"\nendstream"
        )
        draw = f"q {pw} 0 0 {ph} 0 0 cm /Im0 Do Q"
        objects.append(f"<< /Length {len(draw)} >>\nstream\n{draw}\nendstream".encode())
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects):
        offsets.append(len(out))
        out += f"{i + 1} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))


def test_errors_in_a_later_chunk_surface_at_their_item(fixture_pipeline, in_imgs, tmp_path):
    # Chunks of two batches are classified one ahead in the background; an
    # error there still waits for its own item.
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG broken")
    inputs = ["imgs/chelsea.png"] * 10 + [str(bad)] + ["imgs/coffee.png"] * 5
    gen = fixture_pipeline.predict(inputs)
    got = [next(gen)["input_path"] for _ in range(10)]
    assert got == ["imgs/chelsea.png"] * 10
    with pytest.raises(paddlex_rs.PredictError, match="broken.png"):
        next(gen)


def test_an_abandoned_generator_leaves_the_pipeline_usable(fixture_pipeline, in_imgs):
    gen = fixture_pipeline.predict(["imgs/chelsea.png"] * 40)
    next(gen)
    del gen
    out = list(fixture_pipeline.predict(["imgs/coffee.png"] * 3))
    assert [r["input_path"] for r in out] == ["imgs/coffee.png"] * 3
