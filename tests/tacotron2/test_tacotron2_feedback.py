"""Scheduled sampling (``Tacotron2.forward(feedback=p)``): teacher forcing at 0, free running at 1."""
import pytest
import torch


def _batch(config, batch=2, text_length=7, frames=9, seed=0):
    generator = torch.Generator().manual_seed(seed)
    text = torch.randint(1, config.n_symbols, (batch, text_length), generator=generator)
    lengths = torch.full((batch,), text_length, dtype=torch.long)
    mels = torch.randn(batch, config.n_mel_channels, frames, generator=generator)
    return text, lengths, mels, torch.full((batch,), frames, dtype=torch.long)


def test_feedback_zero_is_teacher_forcing_bit_for_bit(tiny_model, tiny_config):
    inputs = _batch(tiny_config)
    torch.manual_seed(3)
    plain = tiny_model(*inputs)
    torch.manual_seed(3)
    zero = tiny_model(*inputs, feedback=0.0)
    for a, b in zip(plain, zero):
        assert torch.equal(a, b)


def test_feedback_one_never_reads_the_target_values(tiny_model, tiny_config):
    text, lengths, mels, out_lengths = _batch(tiny_config)
    outputs = []
    for target in (mels, torch.randn_like(mels) * 5):
        torch.manual_seed(3)
        outputs.append(tiny_model(text, lengths, target, out_lengths, feedback=1.0, prenet_dropout=False))
    assert torch.equal(outputs[0].mel_postnet, outputs[1].mel_postnet)
    # and it is the free-running decoder: the reference loop on the same memory gives the same frames (both
    # without autograd: some CPUs' kernels round differently when gradients are recorded)
    with torch.no_grad():
        torch.manual_seed(3)
        fed_back = tiny_model(text, lengths, mels, out_lengths, feedback=1.0, prenet_dropout=False)
        memory = tiny_model.encode(text, lengths)
        free = tiny_model.decoder.infer(memory, lengths, early_stopping=False, max_decoder_steps=mels.size(2),
                                        prenet_dropout=False)
    torch.testing.assert_close(fed_back.mel, free.mel, rtol=0, atol=0)
    torch.testing.assert_close(outputs[0].mel.detach(), free.mel, rtol=1e-5, atol=1e-6)


def test_partial_feedback_mixes_and_is_seeded(tiny_model, tiny_config):
    inputs = _batch(tiny_config, frames=30)
    runs = []
    for seed in (5, 5, 6):
        torch.manual_seed(seed)
        runs.append(tiny_model(*inputs, feedback=0.5, prenet_dropout=False).mel)
    assert torch.equal(runs[0], runs[1]) and not torch.equal(runs[0], runs[2])
    forced = tiny_model(*inputs, prenet_dropout=False).mel
    assert not torch.equal(runs[0], forced)
    assert torch.equal(runs[0][:, :, 0], forced[:, :, 0])  # the first step reads the go frame either way


def test_feedback_keeps_gradients_through_the_model_not_through_fed_frames(tiny_model, tiny_config):
    text, lengths, mels, out_lengths = _batch(tiny_config)
    tiny_model.train()
    mels.requires_grad_(True)
    out = tiny_model(text, lengths, mels, out_lengths, feedback=1.0)
    out.mel_postnet.sum().backward()
    assert mels.grad is None or not mels.grad.any()  # with feedback 1 no target frame reaches the loss
    assert all(p.grad is not None for p in tiny_model.decoder.attention_rnn.parameters())


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_feedback_outside_zero_one_is_refused(tiny_model, tiny_config, bad):
    with pytest.raises(ValueError, match="feedback must be a probability"):
        tiny_model(*_batch(tiny_config), feedback=bad)
