"""``attention``: attention weights from the answer position to each input word."""

from . import register
from .attribution import AttributionMethod


@register
class Attention(AttributionMethod):
    name = "attention"
    description = "Attention weights from the answer position (mean over layers and heads by default), top-k words."
    field = "attention"
