"""faithscope: is an LLM's rationale true to the model, and close to a human's?

Layers (each imports only the ones before it):
``data`` (examples, words, human rationales) -> ``tasks`` (labels, prompts as data) ->
``models`` (label scoring, generation, gradients) -> ``methods`` (rationale extraction) ->
``metrics`` (alignment, faithfulness, statistics) -> ``runs`` (result store, resume) ->
``reports`` (tables, plots, HTML) -> ``cli``.
"""

__version__ = "0.1.0"
