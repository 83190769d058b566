"""Exporting, the training recipe's commands, the progress file and the report's inputs, on tiny models and folders."""
import json
import shutil
from pathlib import Path

import pytest
import torch

from checkpoints import load_tacotron2
from checkpoints.errors import CheckpointError
from tacotron2 import Tacotron2, Tacotron2Config
from tacotron2_waveglow.builtin_voice import builtin_voice_path
from tacotron2_waveglow.training.cli import build_parser
from recipes.builtin_voice import progress
from recipes.builtin_voice.export import export_voice
from recipes.builtin_voice.report import untrained_like, validation_pairs
from recipes.builtin_voice.train_recipe import PROGRESS_MODEL_CONFIG, VOICE_MODEL_CONFIG, VoiceRecipe, main as recipe_main, training_arguments

TINY = dict(n_mel_channels=8, symbols_embedding_dim=32, encoder_embedding_dim=32, attention_rnn_dim=48,
            attention_dim=16, attention_location_n_filters=4, decoder_rnn_dim=40, prenet_dim=24,
            postnet_embedding_dim=24, max_decoder_steps=40)


@pytest.fixture
def tiny_training_checkpoint(tmp_path):
    torch.manual_seed(0)
    model = Tacotron2(Tacotron2Config(**TINY))
    path = tmp_path / "checkpoint_Tacotron2_3.pt"
    torch.save({"state_dict": model.state_dict(), "config": model.config.to_dict(), "epoch": 3,
                "iteration": 42, "optimizer": {"state": {}, "param_groups": []}}, path)
    return model, path


def test_export_is_fp16_hub_layout_with_info(tiny_training_checkpoint, tmp_path):
    model, path = tiny_training_checkpoint
    out = export_voice(path, tmp_path / "voice.pt", info={"iterations": 42}, max_decoder_steps=77)
    saved = torch.load(out, map_location="cpu", weights_only=True)
    assert set(saved) == {"state_dict", "config", "voice"}
    assert saved["voice"] == {"iterations": 42}
    assert saved["config"]["max_decoder_steps"] == 77
    assert all(t.dtype == torch.float16 for t in saved["state_dict"].values() if t.is_floating_point())
    loaded = load_tacotron2(out)
    for key, value in model.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(loaded.state_dict()[key], value.half().float())


def test_export_rejects_bad_step_limit(tiny_training_checkpoint, tmp_path):
    with pytest.raises(ValueError, match="max_decoder_steps"):
        export_voice(tiny_training_checkpoint[1], tmp_path / "v.pt", max_decoder_steps=0)


@pytest.mark.parametrize("phase", [0, 1, 2, 3, 4, 5])
def test_recipe_commands_parse_with_the_trainer(tmp_path, phase):
    recipe = VoiceRecipe()
    args = build_parser().parse_args(training_arguments(tmp_path / "data", tmp_path / "run", recipe, phase))
    assert json.loads(args.config_overrides) == VOICE_MODEL_CONFIG
    assert args.load_mel_from_disk and args.batch_size == 16
    expected = recipe.phases[phase]
    assert args.epochs == expected.end_epoch
    assert args.guided_attention_weight == expected.guided_attention_weight
    assert args.guided_attention_sigma == expected.guided_attention_sigma
    assert args.gate_positive_weight == expected.gate_positive_weight
    assert (args.length_buckets or 0) == expected.length_buckets
    folders = ["plain", "ga10", "ga100", "ga100-gate10", "ga100-gate10-buckets16", "ga100-gate10-buckets16-sigma0.1"]
    assert args.output == str(tmp_path / "run" / folders[phase])
    if phase == 0:
        assert args.resume is None
    else:
        assert args.resume == str(tmp_path / "run" / folders[phase - 1] / "checkpoint_latest.pt")


@pytest.mark.parametrize("config", [VOICE_MODEL_CONFIG, PROGRESS_MODEL_CONFIG], ids=["recipe", "in_training"])
def test_recipe_model_fits_ten_megabytes_in_fp16(config):
    n_params = sum(p.numel() for p in Tacotron2(Tacotron2Config(**config)).parameters())
    assert 2 * n_params <= 10 * 1024 * 1024


def test_recipe_dry_run_prints_every_command(tmp_path, capsys):
    assert recipe_main(["--corpus", str(tmp_path), "--out", str(tmp_path / "run"), "--epochs", "25", "--dry-run"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[2] for line in lines] == ["tacotron2_waveglow.training.preprocess"] + ["tacotron2_waveglow.training"] * 6
    assert lines[-1].split("--epochs ")[1].split()[0] == "25"


def test_recipe_refuses_epochs_before_the_last_phase(tmp_path, capsys):
    with pytest.raises(SystemExit):
        recipe_main(["--corpus", str(tmp_path), "--out", str(tmp_path / "run"), "--epochs", "15", "--dry-run"])
    assert "--epochs must be above 15" in capsys.readouterr().err


@pytest.mark.parametrize("phases", [(), ((0, 0.0, 1.0),), ((2, 0.0, 1.0), (2, 1.0, 1.0)), ((1, -1.0, 1.0),),
                                    ((1, 1.0, 0.0),), ((1, 1.0, 1.0, -1),), ((1, 1.0, 1.0, 0, 0.0),)])
def test_recipe_rejects_bad_phases(phases):
    with pytest.raises(ValueError, match="phases|weights"):
        VoiceRecipe(phases=phases)


def test_validation_pairs_reads_the_first_rows(tmp_path):
    (tmp_path / "filelist_val.txt").write_text("wavs/00003.wav|First one.\nwavs/00009.wav|Second, one?\n")
    assert validation_pairs(tmp_path, 1) == [("First one.", tmp_path / "wavs/00003.wav")]
    with pytest.raises(ValueError, match="fewer than n=3"):
        validation_pairs(tmp_path, 3)


def test_untrained_baseline_has_the_same_config_and_is_reproducible():
    torch.manual_seed(123)
    model = Tacotron2(Tacotron2Config(**TINY))
    a, b = untrained_like(model), untrained_like(model)
    assert a.config == model.config
    for key, value in a.state_dict().items():
        torch.testing.assert_close(value, b.state_dict()[key])
    assert not torch.equal(a.embedding.weight, model.embedding.weight)


def test_loss_log_parsing_places_validation_at_the_last_iteration(tmp_path):
    from recipes.builtin_voice.loss_curve import read_training_log, save_loss_curve_png
    first = tmp_path / "a.log"
    first.write_text("x training INFO: iteration 10: train loss 2.5\n"
                     "x training INFO: iteration 20: train loss 1.25\n"
                     "x training INFO: epoch 0: train loss 1.9, 10.0 mel frames/s\n"
                     "x training INFO: epoch 0: validation loss 1.5\n")
    second = tmp_path / "b.log"
    second.write_text("iteration 30: train loss 0.75\nepoch 1: validation loss 0.5\n")
    history = read_training_log([first, second])
    assert history.train == [(10, 2.5), (20, 1.25), (30, 0.75)]
    assert history.val == [(20, 1.5), (30, 0.5)]
    pytest.importorskip("matplotlib")
    assert save_loss_curve_png(history, tmp_path / "loss.png", markers=[(20, "phase 2")]).stat().st_size > 0
    with pytest.raises(ValueError, match="log-interval"):
        save_loss_curve_png(read_training_log([]), tmp_path / "none.png")


def test_warm_start_recipe_is_one_resumable_phase(tmp_path):
    recipe = VoiceRecipe.warm_started(str(tmp_path / "voice.pt"), epochs=12)
    args = build_parser().parse_args(training_arguments(tmp_path / "data", tmp_path / "run", recipe, 0))
    assert args.warm_start == str(tmp_path / "voice.pt") and args.resume == "auto"
    assert args.epochs == 12
    last = VoiceRecipe().phases[-1]
    assert (args.guided_attention_weight, args.guided_attention_sigma, args.gate_positive_weight,
            args.length_buckets) == (last.guided_attention_weight, last.guided_attention_sigma,
                                     last.gate_positive_weight, last.length_buckets)
    assert args.output == str(tmp_path / "run" / last.name)


def test_recipe_dry_run_with_warm_start_and_threads(tmp_path, capsys):
    assert recipe_main(["--corpus", str(tmp_path), "--out", str(tmp_path / "run"), "--epochs", "3",
                        "--warm-start", str(tmp_path / "v.pt"), "--dry-run"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and "--warm-start" in lines[1] and "--resume auto" in lines[1]
    with pytest.raises(SystemExit):
        recipe_main(["--corpus", str(tmp_path), "--out", str(tmp_path / "run"), "--threads", "0", "--dry-run"])
    assert "--threads must be >= 1" in capsys.readouterr().err


# -- the voice in training, kept between sessions (recipes.builtin_voice.progress)

REPORT = Path(__file__).resolve().parents[2] / "docs" / "voice" / "report_common_corpus_epoch6.json"


def write_training_checkpoint(path, iteration, seed):
    torch.manual_seed(seed)
    model = Tacotron2(Tacotron2Config(**TINY))
    torch.save({"state_dict": model.state_dict(), "config": model.config.to_dict(), "epoch": 3,
                "iteration": iteration, "optimizer": {"state": {}, "param_groups": []}}, path)
    return model


def test_sessions_accumulate_and_weights_stay_fp32(tmp_path):
    out = tmp_path / "progress" / "voice.pt"
    write_training_checkpoint(tmp_path / "a.pt", 120, seed=0)
    second = write_training_checkpoint(tmp_path / "b.pt", 75, seed=1)
    progress.save_progress(tmp_path / "a.pt", corpus="c1", options="o1", out=out, date="2026-11-30")
    progress.save_progress(tmp_path / "b.pt", corpus="c2", options="o2", out=out, date="2026-12-01",
                           report={"wer_voice": 90.0, "wer_teacher": 15.1})
    history = progress.progress_history(out)
    assert [(e["date"], e["steps"], e["corpus"], e["options"]) for e in history] == [
        ("2026-11-30", 120, "c1", "o1"), ("2026-12-01", 75, "c2", "o2")]
    assert history[1]["report"] == {"wer_voice": 90.0, "wer_teacher": 15.1}
    stored = torch.load(out, map_location="cpu", weights_only=True)
    assert stored["voice"]["total_steps"] == 195 and stored["voice"]["status"] == progress.STATUS
    for name, tensor in second.state_dict().items():
        assert stored["state_dict"][name].dtype == tensor.dtype
        assert torch.equal(stored["state_dict"][name], tensor), name  # the newest session's weights, exactly
    assert load_tacotron2(out).config.to_dict() == second.config.to_dict()


def test_update_last_replaces_the_session_instead_of_counting_it_twice(tmp_path):
    out = tmp_path / "p.pt"
    write_training_checkpoint(tmp_path / "a.pt", 100, seed=0)
    with pytest.raises(ValueError, match="no session to update"):
        progress.save_progress(tmp_path / "a.pt", corpus="c", options="o", out=out, update_last=True)
    progress.save_progress(tmp_path / "a.pt", corpus="c", options="o", out=out, date="2026-11-30")
    progress.save_progress(tmp_path / "a.pt", corpus="c", options="o", out=out, date="2026-12-01")
    later = write_training_checkpoint(tmp_path / "b.pt", 300, seed=1)  # the same run, two epochs on
    progress.save_progress(tmp_path / "b.pt", corpus="c", options="o", out=out, date="2026-12-01", update_last=True)
    history = progress.progress_history(out)
    assert [(e["date"], e["steps"]) for e in history] == [("2026-11-30", 100), ("2026-12-01", 300)]
    assert progress.total_steps(history) == 400
    stored = torch.load(out, map_location="cpu", weights_only=True)["state_dict"]
    assert all(torch.equal(stored[name], tensor) for name, tensor in later.state_dict().items())


def test_refuses_a_model_file_as_the_session_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="not a training checkpoint"):
        progress.save_progress(builtin_voice_path(), corpus="c", options="o", out=tmp_path / "p.pt")
    assert not (tmp_path / "p.pt").exists()


def test_refuses_to_overwrite_a_file_that_is_not_a_progress_file(tmp_path):
    other = tmp_path / "voice.pt"
    shutil.copy(builtin_voice_path(), other)
    before = other.read_bytes()
    write_training_checkpoint(tmp_path / "a.pt", 10, seed=0)
    with pytest.raises(CheckpointError, match="not a progress file"):
        progress.save_progress(tmp_path / "a.pt", corpus="c", options="o", out=other)
    assert other.read_bytes() == before


def test_empty_descriptions_are_refused(tmp_path):
    write_training_checkpoint(tmp_path / "a.pt", 10, seed=0)
    with pytest.raises(ValueError, match="describe the session"):
        progress.save_progress(tmp_path / "a.pt", corpus=" ", options="o", out=tmp_path / "p.pt")


def test_report_headline_from_a_real_summary(tmp_path):
    (tmp_path / "summary.json").write_text(REPORT.read_text(encoding="utf-8"), encoding="utf-8")
    summary = json.loads(REPORT.read_text(encoding="utf-8"))
    headline = progress.report_headline(tmp_path)
    assert headline["wer_voice"] == summary["wer"]["voice"] and headline["wer_teacher"] == summary["wer"]["teacher"]
    assert headline["wer_teacher_forced"] == summary["wer_teacher_forced"]["voice"]
    assert headline["ship"] is False and headline["checks_passed"] == summary["heldout"]["checks"]["passed"]
    (tmp_path / "summary.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match="not a report's summary"):
        progress.report_headline(tmp_path)


def test_cli_save_then_show(tmp_path, capsys):
    write_training_checkpoint(tmp_path / "a.pt", 33, seed=0)
    out = tmp_path / "p.pt"
    assert progress.main(["save", "--checkpoint", str(tmp_path / "a.pt"), "--corpus", "c", "--options", "o",
                          "--out", str(out)]) == 0
    assert progress.main(["show", "--file", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "33 steps; corpus: c; options: o" in printed and "total: 33 steps in 1 session(s)" in printed


def test_cli_show_without_a_file_is_one_line(tmp_path, capsys):
    assert progress.main(["show", "--file", str(tmp_path / "none.pt")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: no progress file")


def test_the_committed_progress_file_is_a_voice_to_warm_start_from():
    history = progress.progress_history()
    assert history and progress.total_steps(history) > 0
    config = load_tacotron2(progress.PROGRESS_FILE).config.to_dict()
    assert {key: config[key] for key in PROGRESS_MODEL_CONFIG} == PROGRESS_MODEL_CONFIG
    stored = torch.load(progress.PROGRESS_FILE, map_location="cpu", weights_only=True)["state_dict"]
    assert all(tensor.dtype == torch.float32 for tensor in stored.values() if tensor.is_floating_point())
    from tacotron2_waveglow.builtin_voice import recorded_text_processor
    from tacotron2_waveglow.bundles import TextProcessor
    assert recorded_text_processor(progress.PROGRESS_FILE, TextProcessor()).arpabet  # it reads phonemes (docs/voice.md)


def test_a_phoneme_session_is_recorded_and_the_report_follows_it(tmp_path):
    from tacotron2_waveglow.builtin_voice import recorded_text_processor
    from tacotron2_waveglow.bundles import TextProcessor
    write_training_checkpoint(tmp_path / "a.pt", 10, seed=0)
    letters, phonemes = tmp_path / "letters.pt", tmp_path / "phonemes.pt"
    progress.save_progress(tmp_path / "a.pt", corpus="c", options="o", out=letters)
    progress.save_progress(tmp_path / "a.pt", corpus="c", options="o", out=phonemes, phonemes=True,
                           report={"wer_voice": 90.0, "wer_teacher": 15.1, "text_input": "arpabet"})
    assert recorded_text_processor(letters, TextProcessor()) == TextProcessor()
    assert recorded_text_processor(phonemes, TextProcessor()) == TextProcessor(end_punctuation=".", arpabet=True)
    assert recorded_text_processor(tmp_path / "a.pt", TextProcessor()) == TextProcessor()  # training checkpoint
    with pytest.raises(ValueError, match="add --phonemes"):  # a phoneme report saved as a letter session
        progress.save_progress(tmp_path / "a.pt", corpus="c", options="o", out=letters,
                               report={"wer_voice": 90.0, "wer_teacher": 15.1, "text_input": "arpabet"})
    assert len(progress.progress_history(letters)) == 1


def test_report_headline_keeps_every_run_of_a_pooled_wer(tmp_path):
    summary = json.loads(REPORT.read_text(encoding="utf-8"))
    (tmp_path / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    assert "wer_runs" not in progress.report_headline(tmp_path)  # one run: as before
    summary["wer"].update(runs=3, voice_runs=[42.1, 44.7, 39.0], voice=41.93)
    (tmp_path / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    headline = progress.report_headline(tmp_path)
    assert headline["wer_runs"] == 3 and headline["wer_voice_runs"] == [42.1, 44.7, 39.0]
    assert headline["wer_voice"] == 41.93
