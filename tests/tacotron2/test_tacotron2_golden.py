"""Parity with NVIDIA's DLE Tacotron 2 on the golden fixtures (same weights, inputs and seeds)."""
import pytest
import torch

from checkpoints import load_tacotron2
from tacotron2 import Tacotron2Loss

ATOL = 1e-5
FP32_FILES = ["ngc", "dle_train", "nvidia_repo"]


def _load(golden_dir, name, golden_config):
    config = golden_config if name == "nvidia_repo" else None  # that layout stores no config
    return load_tacotron2(golden_dir / f"tacotron2_tiny_{name}.pt", config=config)


def _close(actual, expected, atol=ATOL):
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    torch.testing.assert_close(actual, expected, atol=atol, rtol=0)


@pytest.fixture(params=FP32_FILES)
def model(request, golden_dir, golden_config):
    return _load(golden_dir, request.param, golden_config)


def test_encoder_outputs(model, expected):
    with torch.no_grad():
        memory = model.encode(expected["text_padded"], expected["input_lengths"])
    _close(memory, expected["encoder_outputs"])


def test_forward_and_loss(model, expected):
    torch.manual_seed(expected["forward_seed"])
    with torch.no_grad():
        out = model(expected["text_padded"], expected["input_lengths"], expected["mel_target"],
                    expected["output_lengths"])
        loss = Tacotron2Loss()(out, (expected["mel_target"], expected["gate_target"]))
    _close(out.mel, expected["forward_mel"])
    _close(out.mel_postnet, expected["forward_mel_postnet"])
    _close(out.gate, expected["forward_gate"])
    _close(out.alignments, expected["forward_alignments"])
    _close(loss, expected["loss"])


def test_infer(model, expected):
    torch.manual_seed(expected["infer_seed"])
    result = model.infer(expected["text_padded"], expected["input_lengths"])
    _close(result.mel_postnet, expected["infer_mel_postnet"])
    assert torch.equal(result.mel_lengths, expected["infer_mel_lengths"])
    _close(result.alignments, expected["infer_alignments"])


def test_infer_without_early_stopping(model, expected):
    torch.manual_seed(expected["infer_no_early_stop_seed"])
    result = model.infer(expected["text_padded"], expected["input_lengths"], early_stopping=False)
    _close(result.mel_postnet, expected["infer_no_early_stop_mel_postnet"])
    assert torch.equal(result.mel_lengths, expected["infer_no_early_stop_mel_lengths"])


def test_config_default_for_early_stopping_is_decoder_no_early_stopping(golden_dir, golden_config, expected):
    config = dict(golden_config, decoder_no_early_stopping=True)
    with pytest.warns(UserWarning, match="decoder_no_early_stopping"):
        model = load_tacotron2(golden_dir / "tacotron2_tiny_ngc.pt", config=config)
    torch.manual_seed(expected["infer_no_early_stop_seed"])
    result = model.infer(expected["text_padded"], expected["input_lengths"])
    _close(result.mel_postnet, expected["infer_no_early_stop_mel_postnet"])


# The fp16 file holds the fp32 weights rounded to fp16 (checked below); the expected outputs were made from
# the fp32 weights (MANIFEST), so outputs of the rounded weights can only agree to fp16 rounding error.
# Measured: <= 1.5e-3 on mels; 5e-3 leaves margin while still catching any real error (outputs are O(1)).
FP16_ATOL = 5e-3


def test_fp16_file_is_the_fp32_weights_rounded(golden_dir):
    fp32 = load_tacotron2(golden_dir / "tacotron2_tiny_ngc.pt").state_dict()
    fp16 = load_tacotron2(golden_dir / "tacotron2_tiny_ngc_fp16.pt").state_dict()
    for key, value in fp32.items():
        assert fp16[key].dtype == value.dtype
        if value.is_floating_point():
            assert torch.equal(fp16[key], value.half().float()), key


def test_fp16_file_outputs_close_to_reference(golden_dir, expected):
    model = load_tacotron2(golden_dir / "tacotron2_tiny_ngc_fp16.pt")
    torch.manual_seed(expected["forward_seed"])
    with torch.no_grad():
        out = model(expected["text_padded"], expected["input_lengths"], expected["mel_target"],
                    expected["output_lengths"])
    _close(out.mel_postnet, expected["forward_mel_postnet"], atol=FP16_ATOL)
    _close(out.alignments, expected["forward_alignments"], atol=FP16_ATOL)
    torch.manual_seed(expected["infer_no_early_stop_seed"])
    result = model.infer(expected["text_padded"], expected["input_lengths"], early_stopping=False)
    _close(result.mel_postnet, expected["infer_no_early_stop_mel_postnet"], atol=FP16_ATOL)
