"""A small hand-tagged sample (written for faithscope, e-SNLI/ComVE/ECQA-like sentences).

Tags follow UD coarsely: NOUN (incl. proper nouns), VERB (main verbs only), ADJ, ADV, OTHER
(determiners, pronouns, adpositions, conjunctions, auxiliaries/copulas, numerals, particles).
"""

SAMPLE: list[list[tuple[str, str]]] = [
    [("A", "OTHER"), ("man", "NOUN"), ("in", "OTHER"), ("a", "OTHER"), ("red", "ADJ"), ("hat", "NOUN"),
     ("plays", "VERB"), ("guitar.", "NOUN")],
    [("Two", "OTHER"), ("young", "ADJ"), ("children", "NOUN"), ("are", "OTHER"), ("running", "VERB"),
     ("quickly", "ADV"), ("through", "OTHER"), ("the", "OTHER"), ("park.", "NOUN")],
    [("The", "OTHER"), ("woman", "NOUN"), ("is", "OTHER"), ("sleeping", "VERB"), ("on", "OTHER"),
     ("a", "OTHER"), ("wooden", "ADJ"), ("bench.", "NOUN")],
    [("He", "OTHER"), ("put", "VERB"), ("an", "OTHER"), ("elephant", "NOUN"), ("into", "OTHER"),
     ("the", "OTHER"), ("fridge.", "NOUN")],
    [("The", "OTHER"), ("chef", "NOUN"), ("put", "VERB"), ("extra", "ADJ"), ("lemons", "NOUN"), ("on", "OTHER"),
     ("the", "OTHER"), ("pizza.", "NOUN")],
    [("Where", "ADV"), ("would", "OTHER"), ("you", "OTHER"), ("find", "VERB"), ("a", "OTHER"),
     ("fish?", "NOUN")],
    [("A", "OTHER"), ("dog", "NOUN"), ("jumps", "VERB"), ("over", "OTHER"), ("a", "OTHER"), ("small", "ADJ"),
     ("fence", "NOUN"), ("in", "OTHER"), ("the", "OTHER"), ("snow.", "NOUN")],
    [("People", "NOUN"), ("often", "ADV"), ("drink", "VERB"), ("hot", "ADJ"), ("coffee", "NOUN"),
     ("in", "OTHER"), ("the", "OTHER"), ("morning.", "NOUN")],
    [("The", "OTHER"), ("old", "ADJ"), ("building", "NOUN"), ("was", "OTHER"), ("destroyed", "VERB"),
     ("by", "OTHER"), ("a", "OTHER"), ("fire.", "NOUN")],
    [("She", "OTHER"), ("carefully", "ADV"), ("reads", "VERB"), ("a", "OTHER"), ("long", "ADJ"),
     ("book", "NOUN"), ("at", "OTHER"), ("home.", "NOUN")],
    [("Several", "OTHER"), ("workers", "NOUN"), ("build", "VERB"), ("a", "OTHER"), ("new", "ADJ"),
     ("road", "NOUN"), ("near", "OTHER"), ("the", "OTHER"), ("city.", "NOUN")],
    [("The", "OTHER"), ("sun", "NOUN"), ("rises", "VERB"), ("in", "OTHER"), ("the", "OTHER"), ("east.", "NOUN")],
    [("A", "OTHER"), ("girl", "NOUN"), ("wearing", "VERB"), ("a", "OTHER"), ("blue", "ADJ"), ("dress", "NOUN"),
     ("smiles", "VERB"), ("happily.", "ADV")],
    [("What", "OTHER"), ("do", "OTHER"), ("people", "NOUN"), ("use", "VERB"), ("to", "OTHER"), ("cut", "VERB"),
     ("paper?", "NOUN")],
    [("The", "OTHER"), ("band", "NOUN"), ("performs", "VERB"), ("loud", "ADJ"), ("music", "NOUN"), ("on", "OTHER"),
     ("stage.", "NOUN")],
]

# Written after the tagger's rules were fixed and never used to tune them (held-out).
HELD_OUT: list[list[tuple[str, str]]] = [
    [("A", "OTHER"), ("boy", "NOUN"), ("kicks", "VERB"), ("a", "OTHER"), ("soccer", "NOUN"), ("ball", "NOUN"),
     ("across", "OTHER"), ("the", "OTHER"), ("green", "ADJ"), ("field.", "NOUN")],
    [("An", "OTHER"), ("elderly", "ADJ"), ("couple", "NOUN"), ("walks", "VERB"), ("slowly", "ADV"),
     ("along", "OTHER"), ("the", "OTHER"), ("beach.", "NOUN")],
    [("The", "OTHER"), ("students", "NOUN"), ("are", "OTHER"), ("writing", "VERB"), ("notes", "NOUN"),
     ("during", "OTHER"), ("the", "OTHER"), ("lecture.", "NOUN")],
    [("He", "OTHER"), ("drove", "VERB"), ("his", "OTHER"), ("car", "NOUN"), ("to", "OTHER"), ("the", "OTHER"),
     ("moon.", "NOUN")],
    [("Where", "ADV"), ("do", "OTHER"), ("you", "OTHER"), ("keep", "VERB"), ("fresh", "ADJ"), ("milk?", "NOUN")],
    [("A", "OTHER"), ("musician", "NOUN"), ("sings", "VERB"), ("a", "OTHER"), ("sad", "ADJ"), ("song", "NOUN"),
     ("for", "OTHER"), ("the", "OTHER"), ("crowd.", "NOUN")],
    [("Three", "OTHER"), ("men", "NOUN"), ("wait", "VERB"), ("patiently", "ADV"), ("outside", "OTHER"),
     ("a", "OTHER"), ("busy", "ADJ"), ("restaurant.", "NOUN")],
    [("The", "OTHER"), ("cat", "NOUN"), ("chased", "VERB"), ("a", "OTHER"), ("tiny", "ADJ"), ("mouse", "NOUN"),
     ("under", "OTHER"), ("the", "OTHER"), ("table.", "NOUN")],
    [("She", "OTHER"), ("bought", "VERB"), ("cheap", "ADJ"), ("shoes", "NOUN"), ("at", "OTHER"), ("the", "OTHER"),
     ("market", "NOUN"), ("yesterday.", "NOUN")],
]
