"""``prompt-topk``: the model lists its top-k words, k = size of the human rationale (TOP-VAR)."""

from . import register
from .prompting import PromptingMethod


@register
class PromptTopK(PromptingMethod):
    name = "prompt-topk"
    description = "Ask the model for its top-k important words, k = human rationale size (TOP-VAR); never keeps more than k."
    bounded = True
