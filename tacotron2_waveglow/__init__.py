"""Everything of the Tacotron 2 + WaveGlow library beyond its five model packages.

* :mod:`tacotron2_waveglow.bundles`: named voices (text processor, Tacotron 2, vocoder, sample rate);
* :mod:`tacotron2_waveglow.synthesis`: the :class:`Synthesizer` pipeline, streaming and ``tacotron2-tts``;
* :mod:`tacotron2_waveglow.training`: the trainers (``tacotron2-train``, ``waveglow-train``);
* :mod:`tacotron2_waveglow.builtin_voice`: the voice shipped in the package.

Nothing is imported here, so ``import tacotron2_waveglow.bundles`` costs only what it uses.
"""
