"""``prompt-unbound``: the model lists its important words with no length limit (UNBOUND)."""

from . import register
from .prompting import PromptingMethod


@register
class PromptUnbound(PromptingMethod):
    name = "prompt-unbound"
    description = "Ask the model for its important words with no word limit (paper's UNBOUND prompt)."
    bounded = False
