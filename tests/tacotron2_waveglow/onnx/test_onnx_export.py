"""Export: graphs, manifest, every checkpoint layout against NVIDIA's golden outputs, and the refusals."""
from __future__ import annotations

import json
import shutil

import pytest
import torch

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from tacotron2_waveglow.onnx import (OnnxExportError, OnnxTacotron2, OnnxVerificationError, OnnxWaveGlow,  # noqa: E402
                                     export_onnx, read_manifest, verify_export)
from tacotron2_waveglow.onnx.manifest import EXPORT_ID_KEY, MANIFEST_NAME  # noqa: E402
from text import symbols  # noqa: E402

ATOL = 1e-5  # NVIDIA's golden outputs against ONNX Runtime, fp32 on CPU (as the PyTorch golden tests)
FP16_FILE_ATOL = 5e-3  # fp16-stored weights, the tolerance of tests/tacotron2/test_tacotron2_golden.py


def test_export_writes_graphs_and_manifest(tiny_export, tiny_models):
    manifest = read_manifest(tiny_export)
    assert sorted(p.name for p in tiny_export.iterdir()) == sorted(
        ["encoder.onnx", "decoder_step.onnx", "postnet.onnx", "waveglow.onnx", MANIFEST_NAME])
    assert manifest.opset == 17 and manifest.precision == "fp32"
    assert manifest.tacotron2_config == tiny_models[0].config.to_dict()
    assert manifest.waveglow_config == tiny_models[1].config.to_dict()
    assert manifest.symbols == list(symbols) and manifest.cleaners == ["english_cleaners"]
    assert manifest.package_version
    assert manifest.tolerances["infer"] == 1e-3
    assert set(manifest.verification) == set(manifest.tolerances)  # the errors measured at export
    assert all(manifest.verification[k] <= manifest.tolerances[k] for k in manifest.verification)
    for name, spec in manifest.graphs.items():
        model = onnx.load(str(tiny_export / spec.file))
        onnx.checker.check_model(model)
        assert {p.key: p.value for p in model.metadata_props}[EXPORT_ID_KEY] == manifest.export_id
        assert [i.name for i in model.graph.input] == spec.input_names()
        assert [o.name for o in model.graph.output] == spec.output_names()
        assert {o.domain or "ai.onnx": o.version for o in model.opset_import}["ai.onnx"] == 17
        for given, declared in zip(model.graph.input, spec.inputs):  # dynamic axes keep their names
            dims = [d.dim_param or d.dim_value for d in given.type.tensor_type.shape.dim]
            assert dims == declared.shape, name
    step = manifest.graphs["decoder_step"]
    assert "prenet_mask_1" in step.input_names() and "new_attention_weights_cum" in step.output_names()
    assert json.loads((tiny_export / MANIFEST_NAME).read_text())["graphs"]["waveglow"]["inputs"][1]["name"] == "z"


def test_export_leaves_the_models_untouched(tiny_models):
    taco, glow = tiny_models
    assert not taco.training and not glow.training
    assert hasattr(glow.WN[0].start, "weight_g")  # weight norm folded in a copy only


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tacotron2_tiny_ngc", "tacotron2_tiny_dle_train", "tacotron2_tiny_nvidia_repo"])
def test_tacotron2_layouts_give_nvidias_outputs(load_golden, expected_tacotron2, tmp_path, name, tiny_export):
    folder = tiny_export if name == "tacotron2_tiny_ngc" else tmp_path / "t2"
    if folder != tiny_export:
        export_onnx(folder, load_golden(name), verify=False)  # the golden outputs are the check
    model, e = OnnxTacotron2(folder), expected_tacotron2
    torch.manual_seed(e["infer_seed"])
    result = model.infer(e["text_padded"], e["input_lengths"])
    torch.testing.assert_close(result.mel_postnet, e["infer_mel_postnet"], atol=ATOL, rtol=0)
    torch.testing.assert_close(result.alignments, e["infer_alignments"], atol=ATOL, rtol=0)
    assert torch.equal(result.mel_lengths, e["infer_mel_lengths"])
    torch.manual_seed(e["infer_no_early_stop_seed"])
    result = model.infer(e["text_padded"], e["input_lengths"], early_stopping=False)
    torch.testing.assert_close(result.mel_postnet, e["infer_no_early_stop_mel_postnet"], atol=ATOL, rtol=0)
    assert torch.equal(result.mel_lengths, e["infer_no_early_stop_mel_lengths"])


@pytest.mark.slow
def test_fp16_tacotron2_file_exports_close_to_nvidia(load_golden, expected_tacotron2, tmp_path):
    export_onnx(tmp_path / "t2", load_golden("tacotron2_tiny_ngc_fp16"), verify=False)
    e = expected_tacotron2
    torch.manual_seed(e["infer_no_early_stop_seed"])
    result = OnnxTacotron2(tmp_path / "t2").infer(e["text_padded"], e["input_lengths"], early_stopping=False)
    torch.testing.assert_close(result.mel_postnet, e["infer_no_early_stop_mel_postnet"], atol=FP16_FILE_ATOL, rtol=0)


@pytest.mark.slow
@pytest.mark.parametrize("name, expected_file", [
    ("waveglow_tiny_ngc", "waveglow_tiny_expected.pt"),
    ("waveglow_tiny_glow_pickle", "waveglow_tiny_glow_expected.pt"),
    ("waveglow_tiny_glow_old_pickle", "waveglow_tiny_glow_old_expected.pt"),  # alternate halves
])
def test_waveglow_layouts_give_nvidias_audio(golden_dir, load_golden, tmp_path, name, expected_file, tiny_export):
    folder = tiny_export if name == "waveglow_tiny_ngc" else tmp_path / "wg"
    if folder != tiny_export:
        export_onnx(folder, waveglow=load_golden(name), verify=False)  # the golden audio is the check
    e = torch.load(golden_dir / expected_file, weights_only=True)
    torch.manual_seed(e["infer_seed"])
    audio = OnnxWaveGlow(folder).infer(e["mel"], sigma=e["infer_sigma"])
    torch.testing.assert_close(audio, e["infer_audio"], atol=1e-4, rtol=0)  # as tests/waveglow/test_golden.py


@pytest.mark.slow
def test_fp16_export_runs_close_to_fp32(tiny_models, tiny_export, tmp_path):
    export_onnx(tmp_path / "fp16", *tiny_models, precision="fp16")  # verified against fp32 with FP16_TOLERANCES
    manifest = read_manifest(tmp_path / "fp16")
    assert manifest.precision == "fp16"
    graph = onnx.load(str(tmp_path / "fp16" / "waveglow.onnx")).graph
    assert graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT16
    mel = torch.randn(2, 8, 6)
    torch.manual_seed(1)
    half = OnnxWaveGlow(tmp_path / "fp16").infer(mel, 0.6)
    torch.manual_seed(1)
    full = OnnxWaveGlow(tiny_export).infer(mel, 0.6)
    assert half.dtype == torch.float32
    assert float((half - full).abs().max()) < 1e-2 * max(1.0, float(full.abs().max()))


@pytest.mark.parametrize("opset", [14, 20])
def test_other_opsets(mini_waveglow, tmp_path, opset):
    from tacotron2_waveglow.onnx.sessions import default_opset

    export_onnx(tmp_path / "out", waveglow=mini_waveglow, opset=opset)  # verified while exporting
    assert read_manifest(tmp_path / "out").opset == opset
    assert default_opset(tmp_path / "out" / "waveglow.onnx") == opset
    assert {o.domain or "ai.onnx": o.version
            for o in onnx.load(str(tmp_path / "out" / "waveglow.onnx")).opset_import}["ai.onnx"] == opset


@pytest.fixture(scope="module")
def expected_tacotron2(golden_dir):
    return torch.load(golden_dir / "tacotron2_tiny_expected.pt", weights_only=True)


# --- refusals: one clear line each, nothing finished lost -------------------------------------------------------

def _one_line(excinfo, *fragments):
    message = str(excinfo.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_refuses_an_occupied_output_folder_without_force(mini_waveglow, export_copy):
    before = read_manifest(export_copy).export_id
    with pytest.raises(OnnxExportError) as excinfo:
        export_onnx(export_copy, waveglow=mini_waveglow)
    _one_line(excinfo, "already holds an export", "--force")
    assert read_manifest(export_copy).export_id == before
    assert not [p for p in export_copy.parent.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_force_replaces_an_export(mini_waveglow, export_copy):
    before = read_manifest(export_copy).export_id
    export_onnx(export_copy, waveglow=mini_waveglow, force=True)
    manifest = read_manifest(export_copy)
    assert manifest.export_id != before and not manifest.has_tacotron2()
    assert sorted(p.name for p in export_copy.iterdir()) == [MANIFEST_NAME, "waveglow.onnx"]
    assert not [p for p in export_copy.parent.iterdir() if p.name.startswith(".")]


def test_an_output_folder_taken_by_another_run_meanwhile_is_left_alone(mini_waveglow, tmp_path, monkeypatch):
    import tacotron2_waveglow.onnx.export as export_module

    real_verify = export_module.verify_export
    out = tmp_path / "shared"

    def other_run_finishes_first(*args, **kwargs):  # another process publishes into the same folder meanwhile
        out.mkdir()
        (out / "theirs.txt").write_text("finished work")
        return real_verify(*args, **kwargs)

    monkeypatch.setattr(export_module, "verify_export", other_run_finishes_first)
    with pytest.raises(OnnxExportError) as excinfo:
        export_onnx(out, waveglow=mini_waveglow)
    _one_line(excinfo, "already holds files")
    assert sorted(p.name for p in out.iterdir()) == ["theirs.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["shared"]  # no staging folder left


def test_failed_verification_publishes_nothing(mini_waveglow, tmp_path):
    with pytest.raises(OnnxVerificationError) as excinfo:
        export_onnx(tmp_path / "out", waveglow=mini_waveglow, tolerances={"waveglow": -1.0})
    _one_line(excinfo, "differs from PyTorch in waveglow")
    assert list(tmp_path.iterdir()) == []


def test_refuses_a_missing_file(export_copy):
    (export_copy / "postnet.onnx").unlink()
    with pytest.raises(OnnxExportError) as excinfo:
        OnnxTacotron2(export_copy)
    _one_line(excinfo, "postnet.onnx is missing")


def test_refuses_a_graph_from_another_export(export_copy, mini_waveglow, tmp_path):
    other = tmp_path / "other"
    export_onnx(other, waveglow=mini_waveglow, verify=False)
    shutil.copy(other / "waveglow.onnx", export_copy / "waveglow.onnx")
    manifest = json.loads((export_copy / MANIFEST_NAME).read_text())
    manifest["graphs"]["waveglow"]["size_bytes"] = (export_copy / "waveglow.onnx").stat().st_size
    (export_copy / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(OnnxExportError) as excinfo:
        OnnxWaveGlow(export_copy)
    _one_line(excinfo, "belongs to another export")


def test_refuses_a_mismatched_opset(export_copy):
    manifest = json.loads((export_copy / MANIFEST_NAME).read_text())
    manifest["opset"] = 13
    (export_copy / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(OnnxExportError) as excinfo:
        OnnxTacotron2(export_copy)
    _one_line(excinfo, "uses ONNX opset 17", "manifest says 13")


def test_refuses_a_folder_of_another_config(tiny_export):
    from tacotron2 import Tacotron2, Tacotron2Config

    other = Tacotron2(Tacotron2Config(n_mel_channels=8, symbols_embedding_dim=16, encoder_embedding_dim=16,
                                      attention_rnn_dim=8, attention_dim=8, attention_location_n_filters=2,
                                      decoder_rnn_dim=8, prenet_dim=8, postnet_embedding_dim=8)).eval()
    with pytest.raises(OnnxExportError) as excinfo:
        verify_export(tiny_export, other)
    _one_line(excinfo, "another config", "attention_dim")


@pytest.mark.parametrize("damage, fragment", [
    (lambda d: shutil.rmtree(d), "ONNX folder not found"),
    (lambda d: (d / MANIFEST_NAME).unlink(), "has no manifest.json"),
    (lambda d: (d / MANIFEST_NAME).write_text("{not json"), "cannot read"),
    (lambda d: (d / MANIFEST_NAME).write_text('{"format_version": 99}'), "manifest format 99"),
])
def test_refuses_a_broken_folder(export_copy, damage, fragment):
    damage(export_copy)
    with pytest.raises(OnnxExportError) as excinfo:
        OnnxTacotron2(export_copy)
    _one_line(excinfo, fragment)


def test_refuses_a_folder_without_the_model(mini_waveglow, tmp_path):
    export_onnx(tmp_path / "wg", waveglow=mini_waveglow, verify=False)
    with pytest.raises(OnnxExportError) as excinfo:
        OnnxTacotron2(tmp_path / "wg")
    _one_line(excinfo, "holds no Tacotron 2 graphs", "--tacotron2 PATH")


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(), "nothing to export"),
    (dict(waveglow="model.pt"), "waveglow must be a WaveGlow"),
    (dict(opset=9), "opset must be one of"),
    (dict(tolerances={"vocoder": 1.0}), "unknown verification check(s) ['vocoder']"),
    (dict(precision="int8"), "precision 'int8' is not supported; use one of fp32, fp16"),
])
def test_refuses_bad_arguments(tmp_path, kwargs, fragment, mini_waveglow):
    if kwargs and "waveglow" not in kwargs:
        kwargs["waveglow"] = mini_waveglow
    with pytest.raises(OnnxExportError) as excinfo:
        export_onnx(tmp_path / "out", **kwargs)
    _one_line(excinfo, fragment)
    assert not (tmp_path / "out").exists()


def test_the_manifest_records_a_phoneme_voice_and_the_pipeline_reads_it(tiny_models, tiny_export, tmp_path):
    from tacotron2_waveglow.bundles import TextProcessor
    from tacotron2_waveglow.synthesis import Synthesizer

    assert read_manifest(tiny_export).arpabet is False
    folder = tmp_path / "phonemes"
    phonemes = TextProcessor(end_punctuation=".", arpabet=True)
    export_onnx(folder, tiny_models[0], text_processor=phonemes, verify=False)
    assert read_manifest(folder).arpabet is True
    assert Synthesizer.from_onnx(str(folder), vocoder="griffin-lim").text_processor == phonemes
