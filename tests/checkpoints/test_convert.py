"""``to_hub_layout`` / ``convert_checkpoint`` for Tacotron 2 files of every layout."""
import pytest
import torch

from checkpoints import convert_checkpoint, load_tacotron2, to_hub_layout
from checkpoints.convert import detect_model
from tacotron2 import Tacotron2Config


@pytest.mark.parametrize("name", ["tacotron2_tiny_ngc.pt", "tacotron2_tiny_dle_train.pt"])
def test_tacotron2_conversion_keeps_numbers(golden_dir, tmp_path, name):
    expected = torch.load(golden_dir / "tacotron2_tiny_expected.pt", weights_only=True)
    out = convert_checkpoint(golden_dir / name, tmp_path / "hub.pt")
    converted = torch.load(out, weights_only=True)
    assert set(converted) == {"state_dict", "config"}
    assert not any(k.startswith("module.") for k in converted["state_dict"])
    # NVIDIA's hub loader does Tacotron2(**config): exactly the 22 constructor fields.
    assert set(converted["config"]) == set(Tacotron2Config().to_dict())
    model = load_tacotron2(out)
    torch.manual_seed(expected["infer_seed"])
    mel, lengths, _ = model.infer(expected["text_padded"], expected["input_lengths"])
    torch.testing.assert_close(lengths, expected["infer_mel_lengths"])
    torch.testing.assert_close(mel, expected["infer_mel_postnet"], atol=1e-5, rtol=0)


def test_tacotron2_conversion_to_fp16(golden_dir):
    converted = to_hub_layout(golden_dir / "tacotron2_tiny_ngc.pt", dtype=torch.float16)
    floats = [v for v in converted["state_dict"].values() if v.is_floating_point()]
    assert floats and all(v.dtype == torch.float16 for v in floats)


def test_detect_model_on_both_kinds(golden_dir):
    taco = torch.load(golden_dir / "tacotron2_tiny_ngc.pt", weights_only=True)
    wave = torch.load(golden_dir / "waveglow_tiny_ngc.pt", weights_only=True)
    assert detect_model(taco) == "tacotron2"
    assert detect_model(wave) == "waveglow"
