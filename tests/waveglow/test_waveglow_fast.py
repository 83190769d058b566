"""The prepared (fast) WaveGlow inference path against the faithful layer-by-layer one."""
import pytest
import torch

from checkpoints import load_waveglow
from tests.waveglow.tiny import randomize, tiny_config
from waveglow import WaveGlow
from waveglow.inference import DOCUMENTED_RELATIVE_ERROR, SUPPORTED, relative_error, resolve

# Folding weight norm, the end conv and the in_layers biases reorders fp32 sums: rounding only.
ATOL = 1e-4
FRAMES = 4


def _model(seed=3, **changes):
    torch.manual_seed(seed)
    return randomize(WaveGlow(tiny_config(**changes)))


def _both(model, mel, sigma, seed, z=None):
    torch.manual_seed(seed)
    fast = model.infer(mel, sigma, z)
    torch.manual_seed(seed)
    faithful = model.infer(mel, sigma, z, backend="reference")
    return fast, faithful


@pytest.mark.parametrize("alternate_halves", [False, True])
@pytest.mark.parametrize("batch, sigma", [(1, 1.0), (3, 0.6), (2, 0.0)])
def test_fast_equals_faithful_seeded(alternate_halves, batch, sigma):
    model = _model(alternate_halves=alternate_halves)
    mel = torch.randn(batch, 8, FRAMES)
    for seed in (0, 7):
        fast, faithful = _both(model, mel, sigma, seed)
        assert fast.shape == (batch, FRAMES * 256)
        torch.testing.assert_close(fast, faithful, atol=ATOL, rtol=0)


def test_fast_draws_noise_like_faithful_with_two_early_outputs():
    model = _model(n_flows=9)  # early outputs before flows 4 and 8
    mel = torch.randn(2, 8, FRAMES)
    fast, faithful = _both(model, mel, 0.8, 11)
    torch.testing.assert_close(fast, faithful, atol=ATOL, rtol=0)
    # and both leave the global generator in the same state
    torch.manual_seed(11)
    model.infer(mel, 0.8)
    after_fast = torch.rand(1)
    torch.manual_seed(11)
    model.infer(mel, 0.8, backend="reference")
    assert torch.equal(after_fast, torch.rand(1))


def test_fast_with_given_latent_inverts_forward():
    model = _model()
    mel = torch.randn(2, 8, FRAMES)
    audio = torch.rand(2, FRAMES * 256) * 2 - 1
    z = model(mel, audio).z
    torch.testing.assert_close(model.infer(mel, 1.0, z), audio, atol=ATOL, rtol=0)


@pytest.mark.parametrize("name", ["waveglow_tiny_ngc.pt", "waveglow_tiny_glow_old_pickle.pt"])
def test_fast_equals_faithful_on_nvidia_checkpoints(golden_dir, name):
    model = load_waveglow(golden_dir / name)
    mel = torch.randn(2, model.config.n_mel_channels, FRAMES)
    fast, faithful = _both(model, mel, 0.6, 5)
    torch.testing.assert_close(fast, faithful, atol=ATOL, rtol=0)
    model.remove_weightnorm()
    fast_removed, _ = _both(model, mel, 0.6, 5)
    torch.testing.assert_close(fast_removed, faithful, atol=ATOL, rtol=0)


def test_calls_see_new_weights_and_a_held_prepared_model_is_a_snapshot():
    model, other = _model(seed=3), _model(seed=4)
    mel = torch.randn(1, 8, FRAMES)
    old, _ = _both(model, mel, 0.6, 2)
    held = model.prepare_inference()
    model.load_state_dict(other.state_dict())
    new, faithful = _both(model, mel, 0.6, 2)
    torch.testing.assert_close(new, faithful, atol=ATOL, rtol=0)
    assert not torch.allclose(new, old, atol=1e-3)
    torch.manual_seed(2)
    assert not torch.allclose(held.infer(mel, 0.6), new, atol=1e-3)  # built from the old weights: prepare again


def test_per_call_form_sees_an_in_place_weight_change():
    model = _model()
    mel = torch.randn(1, 8, FRAMES)
    _both(model, mel, 0.6, 2)
    with torch.no_grad():
        model.WN[3].cond_layers[1].weight_v.mul_(1.5)
        model.WN[0].end.bias.add_(0.1)
    fast, faithful = _both(model, mel, 0.6, 2)
    torch.testing.assert_close(fast, faithful, atol=ATOL, rtol=0)


def test_fast_output_is_an_ordinary_tensor():
    model = _model()
    audio = model.infer(torch.randn(1, 8, 2))
    audio *= 2.0  # an inference-mode tensor would refuse this outside inference mode
    assert not audio.is_inference()


def test_bad_backend_and_precision_arguments():
    model = _model()
    mel = torch.randn(1, 8, 2)
    with pytest.raises(ValueError, match="backend must be one of"):
        model.infer(mel, backend="quick")
    with pytest.raises(ValueError, match="backend='reference' with precision='bf16' does not run anywhere"):
        model.infer(mel, backend="reference", precision="bf16")
    with pytest.raises(ValueError, match="precision='fp16' does not run on cpu; on cpu these do: .*fast/bf16"):
        model.infer(mel, precision="fp16")
    with pytest.raises(ValueError, match="precision must be one of"):
        model.infer(mel, precision=torch.bfloat16)
    with pytest.raises(ValueError, match="fp32_exact is the reference computation"):
        model.infer(mel, backend="fast", precision="fp32_exact")
    with pytest.raises(ValueError, match="separate model objects"):
        model.infer(mel, backend="onnxruntime")
    with pytest.raises(ValueError, match="chunk_frames applies to backend 'reference' and 'fast'"):
        resolve("cuda_graph", "fp32", None, 4, None, torch.device("cuda"), torch.float32, False)


def test_training_mode_default_is_the_reference_and_fast_is_refused():
    model = _model().train()
    mel = torch.randn(1, 8, FRAMES)
    assert model.prepare_inference().describe() == "reference/fp32"
    with pytest.raises(ValueError, match="backend='fast' needs eval mode"):
        model.infer(mel, backend="fast")


CPU_COMBINATIONS = [key for key, devices in SUPPORTED.items() if "cpu" in devices and key[1] != "int8"]


@pytest.mark.parametrize("backend, precision, fold, chunk", [(b, p, None, None) for b, p in CPU_COMBINATIONS] + [
    ("fast", "fp32", True, None), ("fast", "bf16", True, None), ("fast", "fp32", None, 3), ("reference", "fp32", None, 3)])
def test_every_cpu_combination_agrees_with_the_reference_within_its_tolerance(backend, precision, fold, chunk):
    """Seeded, batch of 3: each backend x precision (x fold, x chunking) against the reference;
    item 0 alone equals item 0 of the batch. (int8: tests/waveglow/test_int8_infer.py.)"""
    model = _model()
    mel = torch.randn(3, 8, 7)
    torch.manual_seed(4)
    reference = model.infer(mel, 0.7, backend="reference")
    options = dict(backend=backend, precision=precision, fold_upsampler=fold, chunk_frames=chunk)
    torch.manual_seed(4)
    got = model.infer(mel, 0.7, **options)
    tolerance = max(DOCUMENTED_RELATIVE_ERROR[precision], 1e-6 if backend == "reference" else 0)
    assert relative_error(got, reference) <= tolerance
    z = torch.randn(3, 8, 7 * 32)
    torch.testing.assert_close(model.infer(mel[:1], 0.7, z[:1], **options), model.infer(mel, 0.7, z, **options)[:1],
                               atol=1e-5, rtol=0)
