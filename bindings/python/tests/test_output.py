"""print() and the saved files against the CLI's, byte for byte."""

import re

import numpy as np
import pytest
from PIL import Image

from conftest import FIXTURE_NAME, pipeline_yaml, run_cli
from helpers import read_bgr, read_rgb
from test_api import write_pdf


def cli_result_lines(cli, cwd, yaml, inputs, extra=(), env=None):
    proc = run_cli(["--pipeline", str(yaml), "--input", *inputs, *extra], cwd, env)
    assert proc.returncode == 0, proc.stderr.decode()
    err = proc.stderr.decode()
    return [line for line in err.splitlines() if line.startswith("{'res':")]


@pytest.mark.parametrize("topk", ["5", "10"])
def test_print_line_equals_cli(cli, fixture_model, in_imgs, tmp_path, capfd, topk):
    import paddlex_rs

    names = ["imgs/chelsea.png", "imgs/rocket.jpg", "imgs/text.png"]
    yaml = pipeline_yaml(tmp_path, FIXTURE_NAME, fixture_model, 4, topk)
    want = cli_result_lines(cli, in_imgs, yaml, names)
    assert len(want) == 3
    pipeline = paddlex_rs.create_pipeline(str(yaml))
    capfd.readouterr()
    for res in pipeline.predict(names):
        res.print()
    got = capfd.readouterr().err.splitlines()
    assert got == want
    assert all("\x1b[" not in line for line in got), "no colours into a pipe"


def test_print_line_equals_cli_on_the_real_model(cli, doc_pipeline, doc_yaml, in_imgs, capfd):
    names = ["imgs/doc_90.png", "imgs/camera.png", "imgs/coffee.png"]
    want = cli_result_lines(cli, in_imgs, doc_yaml, names)
    capfd.readouterr()
    for res in doc_pipeline.predict(names):
        res.print()
    assert capfd.readouterr().err.splitlines() == want


def test_print_line_of_an_array_shows_input_path_none(fixture_pipeline, in_imgs, capfd):
    (res,) = fixture_pipeline.predict(read_bgr(in_imgs / "imgs" / "chelsea.png"))
    capfd.readouterr()
    res.print()
    line = capfd.readouterr().err
    assert line.startswith("{'res': {'input_path': None, 'page_index': None, 'class_ids': array([")
    assert line.endswith("]}}\n")


def test_saved_files_equal_cli(cli, doc_pipeline, doc_yaml, in_imgs, tmp_path):
    names = ["imgs/doc_90.png", "imgs/rocket.jpg", "imgs/chelsea.png"]
    cli_out = tmp_path / "cli"
    proc = run_cli(
        ["--pipeline", str(doc_yaml), "--input", *names, "--save_path", str(cli_out)], in_imgs
    )
    assert proc.returncode == 0, proc.stderr.decode()
    api_out = tmp_path / "api"
    for res in doc_pipeline.predict(names):
        res.save_all(str(api_out))
    expected = sorted(p.name for p in cli_out.iterdir())
    assert expected == [
        "chelsea_res.json", "chelsea_res.png", "doc_90_res.json", "doc_90_res.png",
        "rocket_res.jpg", "rocket_res.json",
    ]
    assert sorted(p.name for p in api_out.iterdir()) == expected
    for name in expected:
        assert (api_out / name).read_bytes() == (cli_out / name).read_bytes(), name


def test_img_property_is_the_cli_picture(cli, doc_pipeline, doc_yaml, in_imgs, tmp_path):
    proc = run_cli(
        ["--pipeline", str(doc_yaml), "--input", "imgs/chelsea.png", "--save_path", str(tmp_path)],
        in_imgs,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    (res,) = doc_pipeline.predict("imgs/chelsea.png")
    img = res.img["res"]
    assert isinstance(img, Image.Image) and img.mode == "RGB"
    assert img.size == (res["input_img"].shape[1], res["input_img"].shape[0])
    assert np.array_equal(np.asarray(img), read_rgb(tmp_path / "chelsea_res.png"))
    # Drawing does not touch the result's own image.
    assert np.array_equal(res["input_img"], read_rgb(in_imgs / "imgs" / "chelsea.png"))


def test_file_paths_are_written_exactly(fixture_pipeline, in_imgs, tmp_path):
    (res,) = fixture_pipeline.predict("imgs/chelsea.png")
    res.save_to_json(str(tmp_path / "a" / "r.json"))
    res.save_to_img(str(tmp_path / "b" / "v.png"))
    res.save_to_img(str(tmp_path / "c" / "v.jpg"))
    assert (tmp_path / "a" / "r.json").is_file()
    assert Image.open(tmp_path / "b" / "v.png").format == "PNG"
    assert Image.open(tmp_path / "c" / "v.jpg").format == "JPEG"
    # Non-default JSON options use Python's json module (PaddleX's way).
    res.save_to_json(str(tmp_path / "d.json"), indent=2, ensure_ascii=True)
    assert (tmp_path / "d.json").read_text().startswith('{\n  "input_path": "imgs/chelsea.png"')


def test_array_results_get_one_timestamped_stem(fixture_pipeline, in_imgs, tmp_path, capfd):
    (res,) = fixture_pipeline.predict(read_bgr(in_imgs / "imgs" / "chelsea.png"))
    res.save_all(str(tmp_path))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2
    for name in names:
        assert re.fullmatch(r"\d+_\d{4}_res\.(json|png)", name), name
    assert names[0].rsplit("_res", 1)[0] == names[1].rsplit("_res", 1)[0]
    assert "There is not input file name as reference" in capfd.readouterr().err
    text = (tmp_path / names[0]).read_text()
    assert text.startswith('{\n    "input_path": null,\n    "page_index": null,')


def test_pdf_pages_are_named_by_page(fixture_pipeline, in_imgs, tmp_path):
    pdf = tmp_path / "doc.pdf"
    write_pdf(pdf, [read_rgb(in_imgs / "imgs" / "chelsea.png")] * 2)
    out = tmp_path / "out"
    for res in fixture_pipeline.predict(str(pdf)):
        res.save_all(str(out))
    assert sorted(p.name for p in out.iterdir()) == [
        "doc_0_res.json", "doc_0_res.png", "doc_1_res.json", "doc_1_res.png",
    ]
