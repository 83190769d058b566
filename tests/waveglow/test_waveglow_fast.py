"""The prepared (fast) WaveGlow inference path against the faithful layer-by-layer one."""
import pytest
import torch

from checkpoints import load_waveglow
from tests.waveglow.tiny import randomize, tiny_config
from waveglow import WaveGlow
from waveglow.fast_infer import prepared_form

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
    faithful = model.infer(mel, sigma, z, method="faithful")
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
    model.infer(mel, 0.8, method="faithful")
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


def test_prepared_form_is_rebuilt_after_load_state_dict():
    model, other = _model(seed=3), _model(seed=4)
    mel = torch.randn(1, 8, FRAMES)
    old, _ = _both(model, mel, 0.6, 2)
    first = prepared_form(model)
    assert prepared_form(model) is first  # cached while the weights are unchanged
    model.load_state_dict(other.state_dict())
    new, faithful = _both(model, mel, 0.6, 2)
    torch.testing.assert_close(new, faithful, atol=ATOL, rtol=0)
    assert not torch.allclose(new, old, atol=1e-3)
    assert prepared_form(model) is not first


def test_prepared_form_is_rebuilt_after_in_place_weight_change():
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


def test_bad_method_and_dtype_arguments():
    model = _model()
    mel = torch.randn(1, 8, 2)
    with pytest.raises(ValueError, match="method"):
        model.infer(mel, method="quick")
    with pytest.raises(ValueError, match="compute_dtype"):
        model.infer(mel, method="faithful", compute_dtype=torch.bfloat16)
    with pytest.raises(ValueError, match="bfloat16"):
        model.infer(mel, compute_dtype=torch.float16)
    with pytest.raises(TypeError, match="torch.dtype"):
        model.infer(mel, compute_dtype="bf16")
    with pytest.raises(ValueError, match="int32"):
        model.infer(mel, compute_dtype=torch.int32)
