"""``saliency``: gradient of the label target with respect to the input embeddings."""

from . import register
from .attribution import AttributionMethod


@register
class Saliency(AttributionMethod):
    name = "saliency"
    description = "Gradient of the label's probability w.r.t. input embeddings (L2 norm by default), top-k words."
    field = "saliency"
