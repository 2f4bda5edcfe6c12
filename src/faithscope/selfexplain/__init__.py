"""Training faithful self-explanations (Doi, Isonuma, Yanaka 2025) checked by Madsen et al.
(2024)'s self-consistency tests, in three styles: attribution, redaction, counterfactual.

Modules (data flows downwards):

* :mod:`.spec` — the ``[self_consistency]`` table of a task file: prompts, marker, unknown;
* :mod:`.edits` — redacting listed words and replacing the edit field (pure functions);
* :mod:`.parse` — replies → explanation (word list or rewritten field) or a failure reason;
* :mod:`.checks` — one check per style on parsed explanations, batched over a backend;
* :mod:`.evaluate` — generate explanations for many examples × styles, then check them;
* :mod:`.pseudo` — pseudo-faithful one-word explanations from feature attribution;
* :mod:`.training` — the LoRA continual-learning mix (explanations + classification);
* :mod:`.store`, :mod:`.study`, :mod:`.report` — the resumable study behind
  ``faithscope selfexplain`` and its tables and plots.
"""

from .spec import MODES, STYLES, TARGET_FROM, SelfConsistencySpec, load_self_consistency

__all__ = ["MODES", "STYLES", "TARGET_FROM", "SelfConsistencySpec", "load_self_consistency"]
