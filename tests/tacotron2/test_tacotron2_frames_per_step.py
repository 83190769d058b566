"""Several frames per decoder step (``n_frames_per_step = r > 1``): training, inference, backends, files."""

import pytest
import torch

from checkpoints import load_tacotron2, save_checkpoint
from tacotron2 import Tacotron2, Tacotron2Config
from tacotron2.inference import DOCUMENTED_RELATIVE_ERROR, FULL_PRECISIONS, SUPPORTED
from tacotron2.shapes import config_fields_from_state_dict

from tests.tacotron2.conftest import TINY

R = 2


def _model(r: int = R, seed: int = 1) -> Tacotron2:
    torch.manual_seed(seed)
    return Tacotron2(Tacotron2Config(**dict(TINY, n_frames_per_step=r))).eval()


def _inputs(batch: int = 2, text: int = 9, frames: int = 7, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([text] + [text - 3] * (batch - 1))
    tokens = torch.randint(1, 100, (batch, text), generator=g)
    mel = torch.randn(batch, TINY["n_mel_channels"], frames, generator=g)
    return tokens, lengths, mel, torch.tensor([frames] * batch)


def _manual_teacher_forced(model: Tacotron2, tokens, lengths, mel):
    """The decoder run by hand: step s reads frames r(s-1) .. r(s-1)+r-1 (zeros first), predicts r frames."""
    decoder, r, n_mels = model.decoder, model.config.n_frames_per_step, model.config.n_mel_channels
    memory = model.encode(tokens, lengths)
    mask = torch.arange(memory.size(1))[None] >= lengths[:, None]
    processed = decoder.attention_layer.memory_layer(memory)
    state = decoder.initial_state(memory)
    frames = mel.size(2)
    padded = torch.cat([mel, mel.new_zeros(mel.size(0), n_mels, (-frames) % r)], dim=2)
    n_steps = padded.size(2) // r
    # step s reads the r frames of step s - 1, side by side (zeros first)
    previous = [mel.new_zeros(mel.size(0), n_mels * r)]
    previous += [torch.cat([padded[:, :, s * r + j] for j in range(r)], dim=1) for s in range(n_steps - 1)]
    # the prenet runs once over all of them, as the model's pass does (a per-step product may round differently)
    prenet = decoder.prenet(torch.stack(previous), dropout=False)
    out, gates, aligns = [], [], []
    for s in range(n_steps):
        frame, gate, state = decoder.step(prenet[s], state, memory, processed, mask)
        for j in range(r):
            out.append(frame[:, j * n_mels:(j + 1) * n_mels])
            gates.append(gate[:, 0])
            aligns.append(state.attention_weights)
    return (torch.stack(out, 2)[:, :, :frames], torch.stack(gates, 1)[:, :frames],
            torch.stack(aligns, 1)[:, :frames])


@pytest.mark.parametrize("frames", [7, 8])
def test_teacher_forced_pass_matches_a_hand_written_grouped_loop(frames):
    model = _model()
    tokens, lengths, mel, out_lengths = _inputs(frames=frames)
    with torch.no_grad():
        got = model(tokens, lengths, mel, out_lengths, prenet_dropout=False)
        memory = model.encode(tokens, lengths)
        mel_out, gate, align = model.decoder(memory, mel, lengths, prenet_dropout=False)
        want = _manual_teacher_forced(model, tokens, lengths, mel)
    assert got.mel.shape == mel.shape and got.gate.shape == (2, frames) and got.alignments.shape[:2] == (2, frames)
    for a, b in zip((mel_out, gate, align), want):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_feedback_one_never_reads_the_targets():
    model = _model()
    tokens, lengths, mel, out_lengths = _inputs(frames=8)
    with torch.no_grad():
        a = model(tokens, lengths, mel, out_lengths, prenet_dropout=False, feedback=1.0)
        b = model(tokens, lengths, torch.randn_like(mel), out_lengths, prenet_dropout=False, feedback=1.0)
    torch.testing.assert_close(a.mel, b.mel, rtol=0, atol=0)


def test_free_running_output_is_its_own_teacher_forced_pass():
    """Infer r frames a step; feeding those frames back teacher-forced gives the same frames (layout check)."""
    model = _model()
    tokens, lengths, _, _ = _inputs()
    with torch.no_grad():
        memory = model.encode(tokens, lengths)
        result = model.decoder.infer(memory, lengths, early_stopping=False, max_decoder_steps=6, prenet_dropout=False)
        assert result.mel.shape == (2, TINY["n_mel_channels"], 6 * R)
        again, gate, align = model.decoder(memory, result.mel, lengths, prenet_dropout=False)
    torch.testing.assert_close(again, result.mel, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(gate, result.gate, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(align, result.alignments, rtol=1e-5, atol=1e-6)


def test_lengths_count_whole_steps_and_batch_equals_single():
    model = _model()
    tokens, lengths, _, _ = _inputs()
    with torch.no_grad():
        full = model.decoder.infer(model.encode(tokens[:1], lengths[:1]), lengths[:1], early_stopping=False,
                                   max_decoder_steps=30, prenet_dropout=False)
        fired = torch.nonzero(torch.sigmoid(full.gate[0]) > model.config.gate_threshold).flatten()
        assert fired.numel() > 0, "the random model's gate should fire within 30 steps"
        first = int(fired[0])
        assert first % R == 0  # a step's gate stands for all of its frames
        stopped = model.infer(tokens[:1], lengths[:1], prenet_dropout=False, max_decoder_steps=30)
    assert stopped.mel_lengths.tolist() == [first]
    assert stopped.mel_postnet.shape[2] == first + R  # the loop ran the firing step too, as NVIDIA's does
    with torch.no_grad():
        batch = model.infer(tokens, lengths, prenet_dropout=False, early_stopping=False, max_decoder_steps=5)
        single = model.infer(tokens[1:], lengths[1:], prenet_dropout=False, early_stopping=False,
                             max_decoder_steps=5)
    n = int(lengths[1])
    torch.testing.assert_close(batch.mel_postnet[1:], single.mel_postnet, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(batch.alignments[1:, :, :n], single.alignments[:, :, :n], rtol=1e-5, atol=1e-6)


CPU_COMBINATIONS = [key for key, devices in SUPPORTED.items() if "cpu" in devices]


def test_grouped_models_default_to_the_fast_backend():
    model = _model()
    assert model.prepare_inference().backend == "fast"
    assert model.train().prepare_inference().backend == "reference"  # training mode, as for r = 1


@pytest.mark.parametrize("backend, precision", CPU_COMBINATIONS)
@pytest.mark.parametrize("dropout", [False, True])
def test_every_cpu_combination_runs_grouped_models_like_the_reference(backend, precision, dropout):
    """Seeded, unsorted batch (text lengths 9, 6, 6): each combination against the reference loop, r = 2."""
    model = _model()
    tokens, lengths = _inputs(batch=3)[:2]
    lengths = torch.tensor([6, 9, 6])
    runs = {}
    for name, (b, p) in (("reference", ("reference", "fp32")), ("other", (backend, precision))):
        torch.manual_seed(11)
        runs[name] = model.infer(tokens, lengths, early_stopping=False, max_decoder_steps=12,
                                 prenet_dropout=dropout, backend=b, precision=p)
    reference, result = runs["reference"], runs["other"]
    assert result.mel_postnet.shape == reference.mel_postnet.shape == (3, TINY["n_mel_channels"], 12 * R)
    assert torch.equal(result.mel_lengths, reference.mel_lengths)
    error = (result.mel_postnet - reference.mel_postnet).norm() / reference.mel_postnet.norm()
    assert error <= DOCUMENTED_RELATIVE_ERROR[precision]
    if precision == "fp32_exact" or backend == "reference":
        assert error == 0
    torch.testing.assert_close(result.alignments, reference.alignments, atol=2e-2, rtol=0)
    # batch == single
    torch.manual_seed(5)
    single = model.infer(tokens[1:2], lengths[1:2], early_stopping=False, max_decoder_steps=12,
                         prenet_dropout=False, backend=backend, precision=precision)
    torch.manual_seed(5)
    batched = model.infer(tokens, lengths, early_stopping=False, max_decoder_steps=12, prenet_dropout=False,
                          backend=backend, precision=precision)
    tolerance = 1e-5 if precision in FULL_PRECISIONS else 5 * DOCUMENTED_RELATIVE_ERROR[precision]
    torch.testing.assert_close(batched.mel_postnet[1:2], single.mel_postnet, atol=tolerance, rtol=0)


@pytest.mark.parametrize("interval", [1, 3, 8])
def test_fast_backend_stops_where_the_reference_stops(interval):
    """Early stopping on r = 2: same steps, lengths (whole steps of r frames) and random-number state."""
    model = _model(seed=9)
    with torch.no_grad():  # a sharper gate: this random model then stops its two items after 3 and 2 steps
        model.decoder.gate_layer.linear_layer.weight.mul_(3)
    tokens, lengths = _inputs(batch=2)[:2]
    out = {}
    for backend in ("reference", "fast"):
        torch.manual_seed(3)
        kwargs = {} if backend == "reference" else {"stop_check_interval": interval}
        result = model.prepare_inference(backend=backend, precision="fp32_exact", **kwargs).generate(
            tokens, lengths, max_decoder_steps=30)
        out[backend] = (result, torch.rand(1))
    (reference, after_reference), (fast, after_fast) = out["reference"], out["fast"]
    assert reference.mel_lengths.tolist() == [3 * R, 2 * R] and not reference.reached_limit.any()
    assert torch.equal(fast.mel_lengths, reference.mel_lengths)
    assert torch.equal(fast.reached_limit, reference.reached_limit)
    assert torch.equal(fast.mel_postnet, reference.mel_postnet)
    assert torch.equal(after_fast, after_reference)  # the generator is left where the reference leaves it


def test_onnx_export_refuses_grouped_models(tmp_path):
    from tacotron2_waveglow.onnx import OnnxExportError, export_onnx

    with pytest.raises(OnnxExportError, match="n_frames_per_step=1"):
        export_onnx(tmp_path / "out", _model())
    assert not (tmp_path / "out").exists()


def test_checkpoint_round_trip_and_shapes_name_the_factor(tmp_path):
    model = _model(r=3)
    save_checkpoint(model, tmp_path / "m.pt")
    loaded = load_tacotron2(tmp_path / "m.pt")
    assert loaded.config.n_frames_per_step == 3
    assert config_fields_from_state_dict(model.state_dict())["n_frames_per_step"] == 3
    fields = config_fields_from_state_dict(_model(r=1).state_dict())
    assert fields["n_frames_per_step"] == 1 and fields["n_mel_channels"] == TINY["n_mel_channels"]


def test_one_training_step_lowers_the_loss():
    from tacotron2 import Tacotron2Loss
    from tacotron2_waveglow.training.data.collate import TextMelCollate

    model = _model().train()
    g = torch.Generator().manual_seed(0)
    items = [(torch.randint(1, 100, (n,), generator=g), torch.randn(TINY["n_mel_channels"], f, generator=g), n)
             for n, f in ((9, 7), (6, 10))]
    text, in_lens, mel, gate, out_lens, _ = TextMelCollate(R)(items)
    assert mel.size(2) % R == 0
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    losses = []
    for _ in range(3):
        torch.manual_seed(0)
        loss = Tacotron2Loss()(model(text, in_lens, mel, out_lens), (mel, gate))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
