"""Free-text self-explanations: prompts rendered from task data, batched generation with stop
sequences, and a reply parser that reports why a reply could not be used.

Shared by the counterfactual tests (:mod:`faithscope.counterfactual`) and, later, the
training of faithful self-explanations: a new explanation style adds a prompt layout here
and reuses :func:`generate_explanations` and :func:`parse_reply`.
"""

from .generate import ExplainedReply, generate_explanations
from .parse import ParsedReply, match_label, parse_reply
from .prompt import ORDERS, STYLES, SelfExplainSpec, SelfExplanationPrompt, choose_demonstrations, load_selfexplain

__all__ = [
    "ORDERS", "STYLES", "ExplainedReply", "ParsedReply", "SelfExplainSpec", "SelfExplanationPrompt",
    "choose_demonstrations", "generate_explanations", "load_selfexplain", "match_label", "parse_reply",
]
