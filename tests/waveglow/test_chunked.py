"""Chunked WaveGlow inference against the unchunked result."""
import pytest
import torch

from tests.waveglow.tiny import randomize, tiny_config
from waveglow import WaveGlow, WaveGlowConfig, WNConfig
from waveglow.chunked import exact_overlap_frames
from waveglow.noise import draw_latent, latent_slices

FRAMES = 21
CHUNK = 5
ATOL = 1e-4


@pytest.fixture
def model():
    torch.manual_seed(8)
    return randomize(WaveGlow(tiny_config()))


@pytest.fixture
def mel():
    return torch.randn(2, 8, FRAMES)


def _seeded(fn, *args, **kwargs):
    torch.manual_seed(12)
    return fn(*args, **kwargs)


def test_exact_overlap_from_receptive_field():
    # hub: 12 flows x (2**8 - 1) steps x 8 samples = 24480 samples -> 96 frames, + 3 for the upsampler
    assert exact_overlap_frames(WaveGlowConfig()) == 99
    # tiny: 8 flows x 3 steps x 8 samples = 192 samples -> 1 frame, + 3
    assert exact_overlap_frames(tiny_config()) == 4
    assert exact_overlap_frames(tiny_config(WN_config=WNConfig(n_layers=3, kernel_size=5, n_channels=8))) == 3 + 4


def test_draw_latent_reproduces_seeded_infer(model, mel):
    unchunked = _seeded(model.infer, mel, 0.7)
    torch.manual_seed(12)
    z = draw_latent(model.config, 2, FRAMES * 32, mel.device)
    torch.testing.assert_close(model.infer(mel, 0.7, z), unchunked, atol=0, rtol=0)


@pytest.mark.slow
def test_seeded_chunked_equals_unchunked_everywhere(model, mel):
    unchunked = _seeded(model.infer, mel, 0.7)
    chunked = _seeded(model.infer, mel, 0.7, chunk_frames=CHUNK)
    assert chunked.shape == unchunked.shape == (2, FRAMES * 256)
    torch.testing.assert_close(chunked, unchunked, atol=ATOL, rtol=0)


def test_no_clicks_at_chunk_boundaries(model, mel):
    """Within 256 samples of each boundary the error stays at rounding level and the
    sample-to-sample step is no larger than the unchunked audio's own."""
    unchunked = _seeded(model.infer, mel, 0.7)
    chunked = _seeded(model.infer, mel, 0.7, chunk_frames=CHUNK)
    for boundary in range(CHUNK * 256, FRAMES * 256, CHUNK * 256):
        window = slice(boundary - 256, boundary + 256)
        assert (chunked[:, window] - unchunked[:, window]).abs().max() < ATOL
        step = (chunked[:, boundary] - chunked[:, boundary - 1]).abs()
        reference_step = (unchunked[:, boundary] - unchunked[:, boundary - 1]).abs()
        assert torch.all(step <= reference_step + 2 * ATOL)


def test_too_small_overlap_really_changes_the_audio(model, mel):
    """The overlap is not vacuous: without it the chunk edges differ well above rounding."""
    unchunked = _seeded(model.infer, mel, 0.7)
    chunked = _seeded(model.infer, mel, 0.7, chunk_frames=CHUNK, overlap_frames=0)
    assert (chunked - unchunked).abs().max() > 100 * ATOL


def test_pieces_and_bounded_chunk_size(model, mel):
    seen = []
    handle = model.upsample.register_forward_pre_hook(lambda module, args: seen.append(args[0].size(2)))
    try:
        prepared = model.prepare_inference(chunk_frames=CHUNK, overlap_frames=2)
        pieces = _seeded(lambda: list(prepared.iter_chunks(mel, 0.7)))
    finally:
        handle.remove()
    assert [p.shape[1] for p in pieces] == [CHUNK * 256] * 4 + [256]
    assert max(seen) == CHUNK + 2 * 2


def test_given_latent_and_bf16(model, mel):
    z = torch.randn(2, 8, FRAMES * 32)
    torch.testing.assert_close(model.infer(mel, 0.5, z, chunk_frames=CHUNK),
                               model.infer(mel, 0.5, z), atol=ATOL, rtol=0)
    low = model.infer(mel, 0.5, z, chunk_frames=CHUNK, precision="bf16")
    reference = model.infer(mel, 0.5, z, precision="bf16")
    torch.testing.assert_close(low, reference, atol=5e-2, rtol=0)


def test_argument_errors(model, mel):
    with pytest.raises(ValueError, match="chunk_frames must be an int >= 1"):
        model.infer(mel, chunk_frames=0)
    with pytest.raises(ValueError, match="overlap_frames must be an int >= 0"):
        model.infer(mel, chunk_frames=2, overlap_frames=1.5)
    with pytest.raises(ValueError, match="overlap_frames applies to chunked synthesis"):
        model.infer(mel, overlap_frames=1)
    with pytest.raises(ValueError, match="iter_chunks needs a configuration with chunk_frames"):
        model.prepare_inference().iter_chunks(mel)
    with pytest.raises(ValueError, match="z must have shape"):
        model.infer(mel, z=torch.randn(2, 8, 3))
    with pytest.raises(ValueError, match="mel must be"):
        model.infer(mel[0])


def test_latent_order_is_nvidias():
    """Remaining channels first, then each early output from the highest flow down (closed form)."""
    config = WaveGlowConfig()  # 12 flows, early every 4 (flows 4 and 8), size 2, group 8
    assert config.n_remaining_channels == 4
    assert latent_slices(config) == [(4, 4), (2, 2), (0, 2)]
    torch.manual_seed(0)
    z = draw_latent(config, 1, 3, torch.device("cpu"))
    torch.manual_seed(0)
    first, second, third = torch.randn(1, 4, 3), torch.randn(1, 2, 3), torch.randn(1, 2, 3)
    assert torch.equal(z, torch.cat([third, second, first], 1))
