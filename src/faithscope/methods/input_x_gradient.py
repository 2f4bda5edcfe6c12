"""``input_x_gradient``: input embeddings times their gradient."""

from . import register
from .attribution import AttributionMethod


@register
class InputXGradient(AttributionMethod):
    name = "input_x_gradient"
    description = "Input embedding x gradient of the label's probability (L2 norm by default), top-k words."
    field = "input_x_gradient"
