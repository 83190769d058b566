"""Independent checks of Tacotron2: parameter names, batching, masking, gradients, limits, input errors."""
import pytest
import torch

from checkpoints.state_dict import strip_prefixes
from tacotron2 import (Tacotron2, Tacotron2Config, Tacotron2Inference, Tacotron2Generation, Tacotron2Loss,
                       Tacotron2Output)


def _text(lengths, n_symbols=148, seed=0):
    """Random padded symbol ids (B, max(lengths)), zero-padded as NVIDIA's collate does."""
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths)
    text = torch.randint(1, n_symbols, (len(lengths), int(lengths.max())), generator=gen)
    text[torch.arange(text.size(1)) >= lengths.unsqueeze(1)] = 0
    return text, lengths


def test_parameter_names_and_shapes_are_nvidias(golden_dir, golden_config):
    nvidia = strip_prefixes(torch.load(golden_dir / "tacotron2_tiny_ngc.pt", weights_only=True)["state_dict"])
    ours = Tacotron2(Tacotron2Config.from_dict(golden_config)).state_dict()
    assert list(ours) == list(nvidia)
    assert all(ours[k].shape == nvidia[k].shape for k in ours)


def test_default_model_has_hub_parameter_count():
    with torch.device("meta"):
        model = Tacotron2()
    # NVIDIA's published Tacotron 2 has 28.2 M parameters
    assert 28.0e6 < sum(p.numel() for p in model.parameters()) < 28.4e6


def test_rejects_dict_config():
    with pytest.raises(TypeError, match="from_dict"):
        Tacotron2({"n_mel_channels": 80})


def test_infer_batch_equals_each_item_alone(tiny_model):
    # Equal lengths: the encoder convolutions of a shorter item would otherwise see the padding symbols'
    # embeddings (NVIDIA's behaviour, kept for parity), so only same-length items can match exactly.
    text, lengths = _text([9, 9, 9], seed=3)
    batch = tiny_model.infer(text, lengths, prenet_dropout=False, early_stopping=False, max_decoder_steps=12)
    for i in range(3):
        alone = tiny_model.infer(text[i:i + 1], lengths[i:i + 1], prenet_dropout=False, early_stopping=False,
                                 max_decoder_steps=12)
        torch.testing.assert_close(batch.mel_postnet[i:i + 1], alone.mel_postnet, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(batch.alignments[i:i + 1], alone.alignments, atol=1e-5, rtol=1e-5)
        assert batch.mel_lengths[i] == alone.mel_lengths[0]


def test_longest_item_of_a_mixed_batch_equals_it_alone(tiny_model):
    text, lengths = _text([11, 6, 8], seed=4)
    batch = tiny_model.infer(text, lengths, prenet_dropout=False, early_stopping=False, max_decoder_steps=10)
    alone = tiny_model.infer(text[:1], lengths[:1], prenet_dropout=False, early_stopping=False,
                             max_decoder_steps=10)
    torch.testing.assert_close(batch.mel_postnet[:1], alone.mel_postnet, atol=1e-5, rtol=1e-5)


def test_attention_never_reaches_padding(tiny_model):
    text, lengths = _text([11, 6, 8], seed=5)
    result = tiny_model.infer(text, lengths, max_decoder_steps=10, early_stopping=False)
    for i, n in enumerate(lengths.tolist()):
        assert torch.all(result.alignments[i, :, n:] == 0)
        torch.testing.assert_close(result.alignments[i].sum(-1), torch.ones(10))


def test_unsorted_batch_equals_sorted_batch_reordered(tiny_model):
    text, lengths = _text([5, 12, 8], seed=6)
    order = torch.argsort(lengths, descending=True)
    unsorted = tiny_model.infer(text, lengths, prenet_dropout=False, early_stopping=False, max_decoder_steps=10)
    ordered = tiny_model.infer(text[order], lengths[order], prenet_dropout=False, early_stopping=False,
                               max_decoder_steps=10)
    inverse = torch.argsort(order)
    torch.testing.assert_close(unsorted.mel_postnet, ordered.mel_postnet[inverse], atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(unsorted.alignments, ordered.alignments[inverse], atol=1e-6, rtol=1e-6)
    assert torch.equal(unsorted.mel_lengths, ordered.mel_lengths[inverse])


def test_prenet_dropout_is_on_at_inference_by_default(tiny_model):
    text, lengths = _text([7], seed=7)
    a = tiny_model.infer(text, lengths, max_decoder_steps=5, early_stopping=False)
    b = tiny_model.infer(text, lengths, max_decoder_steps=5, early_stopping=False)
    assert not torch.equal(a.mel_postnet, b.mel_postnet)
    c = tiny_model.infer(text, lengths, max_decoder_steps=5, early_stopping=False, prenet_dropout=False)
    d = tiny_model.infer(text, lengths, max_decoder_steps=5, early_stopping=False, prenet_dropout=False)
    assert torch.equal(c.mel_postnet, d.mel_postnet)


def test_infer_types_and_shapes(tiny_model):
    text, lengths = _text([7, 4], seed=8)
    result = tiny_model.infer(text, lengths, max_decoder_steps=6, early_stopping=False)
    assert isinstance(result, Tacotron2Inference)
    assert result.mel_postnet.shape == (2, 8, 6)
    assert result.mel_lengths.dtype == torch.int32 and result.mel_lengths.shape == (2,)
    assert result.alignments.shape == (2, 6, 7)


def test_reached_limit_warns_and_is_reported(tiny_model):
    with torch.no_grad():  # make the gate never fire: the limit must cut every item
        tiny_model.decoder.gate_layer.linear_layer.bias.fill_(-1e4)
    text, lengths = _text([7, 4], seed=9)
    with pytest.warns(RuntimeWarning, match=r"max_decoder_steps=5.*2 of 2 batch items \(indices \[0, 1\]\)"):
        result = tiny_model.generate(text, lengths, max_decoder_steps=5)
    assert isinstance(result, Tacotron2Generation)
    assert result.reached_limit.dtype == torch.bool and result.reached_limit.tolist() == [True, True]
    assert result.mel_lengths.tolist() == [5, 5]


def test_gate_firing_at_once_stops_after_one_frame(tiny_model):
    with torch.no_grad():
        tiny_model.decoder.gate_layer.linear_layer.bias.fill_(1e4)
    text, lengths = _text([7, 4], seed=10)
    result = tiny_model.generate(text, lengths)
    assert result.mel_postnet.shape[2] == 1
    assert result.mel_lengths.tolist() == [0, 0]
    assert result.reached_limit.tolist() == [False, False]


def test_no_warning_without_early_stopping(tiny_model, recwarn):
    text, lengths = _text([7], seed=11)
    tiny_model.infer(text, lengths, max_decoder_steps=3, early_stopping=False)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("bad", [0, -3, 2.0, True])
def test_bad_max_decoder_steps(tiny_model, bad):
    text, lengths = _text([4], seed=12)
    with pytest.raises(ValueError, match="max_decoder_steps"):
        tiny_model.infer(text, lengths, max_decoder_steps=bad)


@pytest.mark.parametrize("text, lengths, match", [
    (torch.zeros(2, 5), torch.tensor([5, 5]), "text_padded"),
    (torch.zeros(5, dtype=torch.long), torch.tensor([5]), "text_padded"),
    (torch.zeros(2, 5, dtype=torch.long), torch.tensor([5]), "input_lengths"),
    (torch.zeros(2, 5, dtype=torch.long), torch.tensor([6, 5]), r"input_lengths \[6, 5\]"),
    (torch.zeros(2, 5, dtype=torch.long), torch.tensor([5, 0]), "input_lengths"),
])
def test_bad_text_inputs(tiny_model, text, lengths, match):
    with pytest.raises(ValueError, match=match):
        tiny_model.infer(text, lengths)


def _training_batch(config, seed=13):
    text, lengths = _text([10, 7], seed=seed)
    gen = torch.Generator().manual_seed(seed)
    output_lengths = torch.tensor([9, 6])
    mel = torch.randn(2, config.n_mel_channels, 9, generator=gen)
    mel[1, :, 6:] = 0
    gate = (torch.arange(9) >= output_lengths.unsqueeze(1) - 1).float()
    return text, lengths, mel, output_lengths, gate


def test_forward_masks_padding_like_nvidia(tiny_model, tiny_config):
    text, lengths, mel, output_lengths, _ = _training_batch(tiny_config)
    out = tiny_model(text, lengths, mel, output_lengths)
    assert isinstance(out, Tacotron2Output)
    assert out.mel.shape == out.mel_postnet.shape == (2, 8, 9)
    assert out.gate.shape == (2, 9) and out.alignments.shape == (2, 9, 10)
    assert torch.all(out.mel[1, :, 6:] == 0) and torch.all(out.mel_postnet[1, :, 6:] == 0)
    assert torch.all(out.gate[1, 6:] == 1e3)
    assert torch.all(out.mel[1, :, :6] != 0)


def test_forward_without_mask_padding(tiny_config):
    torch.manual_seed(2)
    model = Tacotron2(tiny_config.replace(mask_padding=False)).eval()
    text, lengths, mel, output_lengths, _ = _training_batch(tiny_config)
    out = model(text, lengths, mel, output_lengths)
    assert torch.all(out.gate[1, 6:] != 1e3) and torch.all(out.mel[1, :, 6:] != 0)


def test_forward_rejects_wrong_mel_channels(tiny_model):
    text, lengths = _text([4], seed=14)
    with pytest.raises(ValueError, match=r"mel_padded must be \(B, 8, T\)"):
        tiny_model(text, lengths, torch.zeros(1, 80, 5), torch.tensor([5]))


def test_training_step_gives_every_parameter_a_gradient(tiny_config):
    torch.manual_seed(3)
    model = Tacotron2(tiny_config).train()
    text, lengths, mel, output_lengths, gate = _training_batch(tiny_config)
    out = model(text, lengths, mel, output_lengths)
    loss = Tacotron2Loss()(out, (mel, gate))
    loss.backward()
    assert torch.isfinite(loss)
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.any(p.grad != 0)]
    assert not missing


def test_loss_leaves_targets_alone(tiny_model, tiny_config):
    text, lengths, mel, output_lengths, gate = _training_batch(tiny_config)
    mel.requires_grad_(True)
    out = tiny_model(text, lengths, mel.detach(), output_lengths)
    Tacotron2Loss()(out, (mel, gate)).backward()
    assert mel.grad is None and mel.requires_grad


def test_loss_is_zero_for_perfect_prediction():
    mel = torch.randn(2, 8, 5)
    gate_target = torch.tensor([[0.0, 0, 0, 0, 1], [0, 0, 1, 1, 1]])
    logits = (gate_target * 2 - 1) * 1e4
    loss = Tacotron2Loss()((mel, mel, logits, None), (mel, gate_target))
    assert loss.item() == pytest.approx(0.0, abs=1e-6)



def test_text_wider_than_the_longest_item_gives_attention_over_max_length(tiny_model):
    # Values differ from the trimmed batch (the encoder convolutions see the padding symbols, as NVIDIA's),
    # but the attention spans max(input_lengths) steps, as pad_packed_sequence gives in NVIDIA's encoder.
    text, lengths = _text([6, 4], seed=15)
    wider = torch.cat((text, torch.zeros(2, 3, dtype=text.dtype)), dim=1)
    result = tiny_model.infer(wider, lengths, early_stopping=False, max_decoder_steps=5)
    assert result.alignments.shape == (2, 5, 6)
    assert torch.all(result.alignments[1, :, 4:] == 0)
