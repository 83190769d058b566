"""WaveGlow: invertibility, weight-norm folding, the cached 1x1 inverse, dtypes and devices."""
import copy

import pytest
import torch

from waveglow import Invertible1x1Conv, WaveGlow, WaveGlowLoss
from tests.waveglow.tiny import randomize, tiny_config


FRAMES = 3
STEPS = FRAMES * 256 // 8


def _inputs(batch=2, frames=FRAMES, mels=8):
    mel = torch.randn(batch, mels, frames)
    audio = torch.rand(batch, frames * 256) * 2 - 1
    return mel, audio


@pytest.mark.parametrize("alternate_halves", [False, True])
def test_infer_of_forward_latent_reproduces_audio(alternate_halves):
    torch.manual_seed(2)
    model = randomize(WaveGlow(tiny_config(alternate_halves=alternate_halves)))
    mel, audio = _inputs()
    out = model(mel, audio)
    assert out.z.shape == (2, 8, STEPS)
    assert len(out.log_s_list) == len(out.log_det_W_list) == 8
    restored = model.infer(mel, sigma=1.0, z=out.z)
    torch.testing.assert_close(restored, audio, atol=1e-4, rtol=0)


def test_alternate_halves_changes_the_function(tiny_model):
    mel, audio = _inputs()
    other = WaveGlow(tiny_config(alternate_halves=True))
    other.load_state_dict(tiny_model.state_dict())
    assert not torch.allclose(tiny_model(mel, audio).z, other.eval()(mel, audio).z)


def test_forward_accepts_nvidia_tuple_call(tiny_model):
    mel, audio = _inputs()
    torch.testing.assert_close(tiny_model((mel, audio)).z, tiny_model(mel, audio).z, atol=0, rtol=0)


def test_infer_batch_equals_single_items(tiny_model):
    mel, audio = _inputs(batch=3)
    z = torch.randn(3, 8, STEPS)
    batch = tiny_model.infer(mel, sigma=0.7, z=z)
    for i in range(3):
        single = tiny_model.infer(mel[i:i + 1], sigma=0.7, z=z[i:i + 1])
        torch.testing.assert_close(batch[i:i + 1], single, atol=1e-6, rtol=1e-5)


def test_seeded_infer_matches_explicit_noise_in_reference_order(tiny_model):
    torch.manual_seed(4)
    model = randomize(WaveGlow(tiny_config(n_flows=9)))  # early outputs before flows 4 and 8
    mel, _ = _inputs(batch=2)
    torch.manual_seed(5)
    drawn = model.infer(mel, sigma=0.5)
    torch.manual_seed(5)
    last = torch.randn(2, 4, STEPS)
    early_8 = torch.randn(2, 2, STEPS)
    early_4 = torch.randn(2, 2, STEPS)
    z = torch.cat([early_4, early_8, last], 1)
    torch.testing.assert_close(drawn, model.infer(mel, sigma=0.5, z=z), atol=0, rtol=0)


def test_infer_rejects_wrong_z_shape(tiny_model):
    mel, _ = _inputs()
    with pytest.raises(ValueError, match="z must have shape"):
        tiny_model.infer(mel, z=torch.randn(2, 8, 5))


def test_forward_rejects_too_short_mel(tiny_model):
    mel, audio = _inputs(frames=1)
    with pytest.raises(ValueError, match="frames"):
        tiny_model(mel, torch.randn(2, 4096))


def test_removing_weight_norm_keeps_outputs(tiny_model):
    mel, audio = _inputs()
    z = torch.randn(2, 8, STEPS)
    before_fwd = tiny_model(mel, audio).z
    before_inf = tiny_model.infer(mel, z=z)
    folded = copy.deepcopy(tiny_model).remove_weightnorm()
    assert not any(k.endswith("weight_g") for k in folded.state_dict())
    assert any(k.endswith("start.weight") for k in folded.state_dict())
    torch.testing.assert_close(folded(mel, audio).z, before_fwd, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(folded.infer(mel, z=z), before_inf, atol=1e-5, rtol=1e-5)


def test_inverse_follows_new_weights():
    torch.manual_seed(3)
    conv = Invertible1x1Conv(4)
    x = torch.randn(1, 4, 10)
    new = Invertible1x1Conv(4).state_dict()
    conv.load_state_dict(new)
    y, _ = conv(x)
    torch.testing.assert_close(conv.inverse(y), x, atol=1e-5, rtol=1e-5)
    w = new["conv.weight"].squeeze(-1)
    torch.testing.assert_close(conv.inverse_weight().squeeze(-1), torch.linalg.inv(w), atol=1e-6, rtol=1e-6)


def test_model_inverse_refreshed_after_load_state_dict(tiny_model):
    mel, audio = _inputs()
    tiny_model.infer(mel, z=torch.zeros(2, 8, STEPS))
    torch.manual_seed(9)
    other = randomize(WaveGlow(tiny_config()))
    tiny_model.load_state_dict(other.state_dict())
    torch.testing.assert_close(tiny_model.infer(mel, z=tiny_model(mel, audio).z), audio, atol=1e-4, rtol=0)


def test_log_det_is_closed_form():
    conv = Invertible1x1Conv(3)
    with torch.no_grad():
        conv.conv.weight.copy_(torch.diag(torch.tensor([2.0, 3.0, 0.5])).unsqueeze(-1))
    _, log_det = conv(torch.randn(2, 3, 5))
    torch.testing.assert_close(log_det, torch.tensor(2 * 5 * torch.log(torch.tensor(3.0)).item()))


def test_loss_closed_form_and_backward(tiny_model):
    z = torch.randn(2, 8, 4)
    log_s = [torch.full((2, 4, 4), 0.1), torch.full((2, 3, 4), -0.2)]
    log_det = [torch.tensor(1.5), torch.tensor(-0.5)]
    expected = (z.pow(2).sum() / (2 * 0.25) - (0.1 * 32 - 0.2 * 24) - 1.0) / z.numel()
    torch.testing.assert_close(WaveGlowLoss(sigma=0.5)((z, log_s, log_det)), expected)
    mel, audio = _inputs()
    tiny_model.train()
    WaveGlowLoss()(tiny_model(mel, audio)).backward()
    grads = [p.grad for p in tiny_model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_bfloat16_cpu_smoke(tiny_model):
    model = tiny_model.to(torch.bfloat16)
    mel, _ = _inputs()
    audio = model.infer(mel.to(torch.bfloat16), sigma=0.6)
    assert audio.dtype == torch.bfloat16 and audio.shape == (2, FRAMES * 256)
    assert torch.isfinite(audio.float()).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fp16_matches_fp32(tiny_model):
    mel, audio = _inputs()
    z = torch.randn(2, 8, STEPS)
    reference = tiny_model.infer(mel, sigma=0.6, z=z)
    half = copy.deepcopy(tiny_model).cuda().half()
    got = half.infer(mel.cuda().half(), sigma=0.6, z=z.cuda().half())
    assert got.dtype == torch.float16
    torch.testing.assert_close(got.float().cpu(), reference, atol=5e-2, rtol=5e-2)
    with torch.autocast("cuda", dtype=torch.float16):
        out = tiny_model.cuda()(mel.cuda(), audio.cuda())
    assert torch.isfinite(out.z).all()


def test_remove_weightnorm_accepts_nvidia_call_style_and_refuses_another_model():
    model, other = WaveGlow(tiny_config()), WaveGlow(tiny_config())
    assert model.remove_weightnorm(model) is model
    with pytest.raises(ValueError, match="pass the model itself"):
        other.remove_weightnorm(model)


@pytest.mark.parametrize("kwargs", [{"backend": "reference"}, {}, {"precision": "bf16", "chunk_frames": 2}])
def test_infer_rejects_a_mel_it_cannot_vocode(tiny_model, kwargs):
    n_mel = tiny_model.config.n_mel_channels
    for bad in (torch.zeros(1, n_mel, 0), torch.zeros(1, n_mel + 1, 4), torch.zeros(n_mel, 4)):
        with pytest.raises(ValueError, match=rf"mel must be \(B, {n_mel}, T_mel\) with at least one frame"):
            tiny_model.infer(bad, 0.6, **kwargs)
    with pytest.raises(TypeError, match="floating-point"):
        tiny_model.infer(torch.zeros(1, n_mel, 4, dtype=torch.long), 0.6, **kwargs)
