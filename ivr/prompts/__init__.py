"""Prompt catalogue (IDs → text per language) and the audio build that turns it into 8 kHz WAV files."""
from .catalogue import PromptCatalogue

__all__ = ["PromptCatalogue"]
