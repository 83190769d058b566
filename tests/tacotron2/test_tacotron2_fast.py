"""The fast decoder (default of ``infer``) against the faithful step-by-step loop and NVIDIA's outputs."""
import copy

import pytest
import torch

from checkpoints import load_tacotron2
from tacotron2.cuda_graph_decoder import GraphLoops, bucket_length
from tacotron2.fast_linears import build_linears
from tacotron2.precision import StreamedLinear
from tacotron2.stop_check import StopTracker

from tests.tacotron2.fast_helpers import calibrate_gate, expected_stop, gate_trajectory, inputs

STEPS = 30


def _run(model, text, lengths, seed, **kwargs):
    """Seeded ``infer`` plus a draw from the generator afterwards (checks the RNG was left as faithful)."""
    torch.manual_seed(seed)
    kwargs.setdefault("max_decoder_steps", STEPS)
    result = model.generate(text, lengths, **kwargs)
    return result, torch.rand(4)


def _assert_same(fast, faithful, atol=1e-5):
    (a, rng_a), (b, rng_b) = fast, faithful
    assert a.mel_postnet.shape == b.mel_postnet.shape
    torch.testing.assert_close(a.mel_postnet, b.mel_postnet, atol=atol, rtol=0)
    torch.testing.assert_close(a.alignments, b.alignments, atol=atol, rtol=0)
    assert torch.equal(a.mel_lengths, b.mel_lengths) and a.mel_lengths.dtype == torch.int32
    assert torch.equal(a.reached_limit, b.reached_limit)
    assert torch.equal(rng_a, rng_b)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("interval", [1, 8])
@pytest.mark.filterwarnings("ignore:Tacotron2.infer reached max_decoder_steps")
def test_fast_equals_faithful_with_early_stopping(tiny_model, batch, seed, interval):
    text, lengths = inputs(batch)
    calibrate_gate(tiny_model, text, lengths, seed, STEPS, quiet_steps=5 + 3 * seed)
    fast = _run(tiny_model, text, lengths, seed, stop_check_interval=interval)
    faithful = _run(tiny_model, text, lengths, seed, backend="reference")
    _assert_same(fast, faithful)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("dropout", [True, False])
def test_fast_equals_faithful_without_early_stopping(tiny_model, batch, dropout):
    text, lengths = inputs(batch)
    fast = _run(tiny_model, text, lengths, 7, early_stopping=False, prenet_dropout=dropout, stop_check_interval=7)
    faithful = _run(tiny_model, text, lengths, 7, early_stopping=False, prenet_dropout=dropout, backend="reference")
    _assert_same(fast, faithful)
    assert fast[0].mel_postnet.size(2) == STEPS


@pytest.mark.parametrize("seed", [3, 4])
@pytest.mark.parametrize("early_stopping", [True, False])
@pytest.mark.filterwarnings("ignore:Tacotron2.infer reached max_decoder_steps")
def test_stop_rule_matches_closed_form_from_gate_trajectory(tiny_model, seed, early_stopping):
    text, lengths = inputs(3)
    calibrate_gate(tiny_model, text, lengths, seed, STEPS, quiet_steps=8)
    gate = gate_trajectory(tiny_model, text, lengths, seed, STEPS)
    steps, mel_lengths = expected_stop(gate, tiny_model.config.gate_threshold, early_stopping)
    (result, _) = _run(tiny_model, text, lengths, seed, early_stopping=early_stopping, stop_check_interval=6)
    assert result.mel_postnet.size(2) == steps
    assert torch.equal(result.mel_lengths, mel_lengths)


def test_max_steps_hit_reports_reached_limit_and_warns(tiny_model):
    text, lengths = inputs(3)
    with torch.no_grad():
        tiny_model.decoder.gate_layer.linear_layer.bias.fill_(-1e4)  # never stops
    with pytest.warns(RuntimeWarning, match="max_decoder_steps"):
        fast = _run(tiny_model, text, lengths, 0, stop_check_interval=8)  # 30 is not a multiple of 8
    with pytest.warns(RuntimeWarning):
        faithful = _run(tiny_model, text, lengths, 0, backend="reference")
    _assert_same(fast, faithful)
    assert fast[0].reached_limit.all() and torch.equal(fast[0].mel_lengths, torch.full((3,), STEPS, dtype=torch.int32))


@pytest.mark.parametrize("name, interval", [("ngc", 3), ("dle_train", 1)])
def test_golden_parity_through_fast_path(golden_dir, expected, name, interval):
    model = load_tacotron2(golden_dir / f"tacotron2_tiny_{name}.pt")
    torch.manual_seed(expected["infer_seed"])
    result = model.infer(expected["text_padded"], expected["input_lengths"], backend="fast",
                         stop_check_interval=interval)
    torch.testing.assert_close(result.mel_postnet, expected["infer_mel_postnet"], atol=1e-5, rtol=0)
    assert torch.equal(result.mel_lengths, expected["infer_mel_lengths"])
    torch.testing.assert_close(result.alignments, expected["infer_alignments"], atol=1e-5, rtol=0)


@pytest.mark.parametrize("onednn", [True, False])
def test_fused_lstm_products_with_and_without_onednn_equal_faithful(tiny_model, onednn):
    if onednn and not torch.backends.mkldnn.is_available():
        pytest.skip("this PyTorch build has no oneDNN")
    text, lengths = inputs(3)
    with torch.backends.mkldnn.flags(enabled=onednn):
        prepared = tiny_model.prepare_inference()
        fast = _run(prepared, text, lengths, 5, early_stopping=False)
    faithful = _run(tiny_model, text, lengths, 5, early_stopping=False, backend="reference")
    assert type(prepared.linears.decoder_lstm) is StreamedLinear  # plain addmm on the fused weight, no private ops
    assert prepared.describe() == "fast/fp32"
    _assert_same(fast, faithful)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("dropout", [True, False])
@pytest.mark.filterwarnings("ignore:Tacotron2.infer reached max_decoder_steps")
def test_fp32_exact_is_bitwise_the_faithful_loop(tiny_model, batch, dropout):
    text, lengths = inputs(batch)
    exact = _run(tiny_model, text, lengths, 7, prenet_dropout=dropout, precision="fp32_exact", stop_check_interval=3)
    faithful = _run(tiny_model, text, lengths, 7, prenet_dropout=dropout, backend="reference")
    _assert_same(exact, faithful, atol=0)


def test_model_can_be_copied_and_pickled_after_a_fast_call(tiny_model, tmp_path):
    text, lengths = inputs(2)
    before = _run(tiny_model, text, lengths, 2, early_stopping=False, max_decoder_steps=6)
    copied = copy.deepcopy(tiny_model)
    torch.save(tiny_model, tmp_path / "model.pt")
    loaded = torch.load(tmp_path / "model.pt", weights_only=False)
    for model in (copied, loaded):
        _assert_same(_run(model, text, lengths, 2, early_stopping=False, max_decoder_steps=6), before, atol=0)


def test_weight_change_is_seen_by_new_calls_and_a_held_prepared_model_is_a_snapshot(tiny_model):
    text, lengths = inputs(2)
    held = tiny_model.prepare_inference()
    tiny_model.infer(text, lengths, early_stopping=False, max_decoder_steps=4)
    with torch.no_grad():
        tiny_model.decoder.decoder_rnn.weight_hh.mul_(1.5)
        tiny_model.decoder.linear_projection.linear_layer.weight.add_(0.1)
    fast = _run(tiny_model, text, lengths, 0, early_stopping=False, max_decoder_steps=8)
    faithful = _run(tiny_model, text, lengths, 0, early_stopping=False, backend="reference", max_decoder_steps=8)
    _assert_same(fast, faithful)
    stale = _run(held, text, lengths, 0, early_stopping=False, max_decoder_steps=8)
    assert not torch.allclose(stale[0].mel_postnet, faithful[0].mel_postnet, atol=1e-3)  # documented: prepare again


def test_prepared_model_equals_the_per_call_one_and_reports_its_cost(tiny_model):
    text, lengths = inputs(3)
    prepared = tiny_model.prepare_inference(precision="bf16", stop_check_interval=4)
    assert prepared.prepare_seconds > 0
    decoder = tiny_model.decoder
    fused = sum(cell.weight_ih.numel() + cell.weight_hh.numel() for cell in (decoder.attention_rnn, decoder.decoder_rnn))
    biases = sum(cell.bias_ih.numel() for cell in (decoder.attention_rnn, decoder.decoder_rnn))
    assert prepared.nbytes == 2 * fused + 4 * biases  # bf16 fused LSTM weights, fp32 summed biases
    assert tiny_model.prepare_inference().nbytes == 4 * fused + 4 * biases
    assert tiny_model.prepare_inference(backend="reference").nbytes == 0
    held = _run(prepared, text, lengths, 3, early_stopping=False)
    per_call = _run(tiny_model, text, lengths, 3, early_stopping=False, precision="bf16", stop_check_interval=4)
    _assert_same(held, per_call, atol=0)


def test_prepared_model_refuses_a_moved_model(tiny_model):
    prepared = tiny_model.prepare_inference()
    tiny_model.double()
    with pytest.raises(ValueError, match="built for torch.float32 on cpu.*prepare_inference"):
        prepared.infer(*inputs(1))


def test_training_mode_default_is_the_reference_and_fast_is_refused(tiny_model):
    text, lengths = inputs(2)
    tiny_model.train()
    default = _run(tiny_model, text, lengths, 0, early_stopping=False, max_decoder_steps=8)
    faithful = _run(tiny_model, text, lengths, 0, early_stopping=False, backend="reference", max_decoder_steps=8)
    _assert_same(default, faithful, atol=0)
    assert tiny_model.prepare_inference().backend == "reference"
    with pytest.raises(ValueError, match="backend='fast' needs eval mode"):
        tiny_model.infer(text, lengths, backend="fast")
    prepared = tiny_model.eval().prepare_inference(backend="fast")
    tiny_model.train()
    with pytest.raises(ValueError, match="needs eval mode"):
        prepared.infer(text, lengths)


@pytest.mark.parametrize("kwargs, match", [
    (dict(backend="turbo"), "backend must be one of"),
    (dict(precision="fp8"), "precision must be one of"),
    (dict(backend="reference", precision="bf16"), "backend='reference' with precision='bf16' does not run anywhere; "
                                                  "on cpu these do: .*fast/bf16"),
    (dict(backend="onnxruntime"), "separate model objects"),
    (dict(precision="fp16"), "precision='fp16' does not run on cpu"),
    (dict(backend="reference", stop_check_interval=2), "stop_check_interval applies to backend 'fast'"),
    (dict(stop_check_interval=0), "stop_check_interval must be a positive int"),
    (dict(stop_check_interval=2.0), "stop_check_interval must be a positive int"),
])
def test_bad_arguments_raise(tiny_model, kwargs, match):
    text, lengths = inputs(2)
    with pytest.raises(ValueError, match=match):
        tiny_model.infer(text, lengths, **kwargs)


def test_reduced_precision_needs_fp32_model(tiny_model):
    text, lengths = inputs(2)
    with pytest.raises(ValueError, match="expects an fp32 model"):
        tiny_model.to(torch.bfloat16).infer(text, lengths, precision="bf16")


def test_stop_tracker_counts_nan_as_stop_like_the_faithful_test():
    tracker = StopTracker(2, 10, 0.5, torch.device("cpu"))
    tracker.update(torch.tensor([[0.0, -1.0], [float("nan"), -1.0], [5.0, 5.0]]), start=2)
    assert tracker.first_fire.tolist() == [3, 4] and tracker.all_stopped() and tracker.steps_needed() == 5
    assert tracker.mel_lengths(5).tolist() == [3, 4]


@pytest.mark.parametrize("block", [3, 8])
@pytest.mark.parametrize("early_stopping", [True, False])
@pytest.mark.filterwarnings("ignore:Tacotron2.infer reached max_decoder_steps")
def test_graph_loop_logic_on_cpu_matches_faithful(tiny_model, block, early_stopping):
    """The CUDA graph loop run eagerly: padded length buckets, whole blocks only, rewound RNG."""
    text, lengths = inputs(3)
    calibrate_gate(tiny_model, text, lengths, 1, STEPS, quiet_steps=6)
    memory = tiny_model.encode(text, lengths)
    assert bucket_length(memory.size(1), 16) == 16
    torch.manual_seed(1)
    loops = GraphLoops(tiny_model.decoder, build_linears(tiny_model.decoder, "fp32"), precision="fp32",
                       block_size=block, length_bucket=16, use_graph=False, max_loops=1)
    graph = loops.infer(memory, lengths, early_stopping=early_stopping, max_steps=STEPS)
    graph_rng = torch.rand(4)
    torch.manual_seed(1)
    faithful = tiny_model.decoder.infer(memory, lengths, early_stopping=early_stopping, max_decoder_steps=STEPS)
    assert torch.equal(graph_rng, torch.rand(4))
    assert graph.mel.shape == faithful.mel.shape and graph.alignments.shape == faithful.alignments.shape
    torch.testing.assert_close(graph.mel, faithful.mel, atol=1e-5, rtol=0)
    torch.testing.assert_close(graph.alignments, faithful.alignments, atol=1e-5, rtol=0)
    assert torch.equal(graph.mel_lengths, faithful.mel_lengths)
    assert torch.equal(graph.reached_limit, faithful.reached_limit)
    loops.infer(memory[:1], lengths[:1], early_stopping=early_stopping, max_steps=4)
    assert len(loops.loops) == 1 and loops.nbytes > 0  # bounded: the batch-3 loop was dropped


@pytest.mark.parametrize("regions", [False, True])
def test_named_profiler_regions_only_when_asked_and_the_same_result(tiny_model, regions):
    """``regions=True`` names the five parts of a step for torch.profiler; off (the default) records none."""
    from torch.profiler import ProfilerActivity, profile

    from tacotron2.fast_decoder import fast_infer

    text, lengths = inputs(2)
    with torch.no_grad():
        memory = tiny_model.encode(text, lengths)
    linears = build_linears(tiny_model.decoder, "fp32")

    def decode(**kwargs):
        torch.manual_seed(3)
        return fast_infer(tiny_model.decoder, linears, memory, lengths, early_stopping=False, max_steps=5, **kwargs)

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        result = decode(regions=regions)
    names = {event.key for event in prof.key_averages()}
    parts = {"prenet", "attention_lstm", "attention", "decoder_lstm", "projections"}
    assert (parts <= names) if regions else not (parts & names)
    assert torch.equal(result.mel, decode().mel)
