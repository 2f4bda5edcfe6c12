"""Self-explanation prompts from the task files."""

import pytest

from faithscope.data import load_dataset
from faithscope.errors import ConfigError
from faithscope.explanations import SelfExplanationPrompt, choose_demonstrations, load_selfexplain
from faithscope.tasks import list_tasks, load_task


@pytest.mark.parametrize("name", ["esnli", "demo", "fever", "medical_bios", "comve", "ecqa"])
def test_every_task_has_selfexplain(name):
    spec = load_selfexplain(load_task(name))
    assert spec.max_new_tokens > 0 and spec.stop
    assert set(spec.editable_fields) <= set(load_task(name).fields)


def test_render_orders_and_demos():
    task = load_task("demo")
    spec = load_selfexplain(task)
    exs = load_dataset("demo").examples
    ex = exs[0]
    pe = SelfExplanationPrompt(spec, task, order="pe").render(ex)
    assert pe.endswith('Hypothesis: "' + ex.text("hypothesis") + '"\nLabel:')
    ep = SelfExplanationPrompt(spec, task, order="ep")
    assert ep.render(ex).endswith("\nExplanation:")
    demos = choose_demonstrations(exs, ex, 3, seed=0)
    assert len(demos) == 3 and ex not in demos
    text = SelfExplanationPrompt(spec, task, order="pe", style="human").render(ex, demos)
    for d in demos:
        assert f"Label: {d.label}\nExplanation: {d.explanations[0]}\n\n" in text
    assert SelfExplanationPrompt(spec, task).explanation_prompt(pe, "neutral").endswith("Label: neutral\nExplanation:")
    assert ep.label_prompt("P", "because.") == "P because.\nLabel:"


def test_demonstrations_seeded_and_never_the_example():
    exs = load_dataset("demo").examples
    for ex in exs[:10]:
        a = choose_demonstrations(exs, ex, 3, seed=5)
        assert a == choose_demonstrations(exs, ex, 3, seed=5) and ex.id not in {d.id for d in a}
    with pytest.raises(ConfigError, match="demonstrations"):
        choose_demonstrations(exs[:2], exs[0], 3, seed=0)


def test_bad_options():
    task = load_task("demo")
    spec = load_selfexplain(task)
    with pytest.raises(ConfigError, match="--order"):
        SelfExplanationPrompt(spec, task, order="x")
    with pytest.raises(ConfigError, match="--style"):
        SelfExplanationPrompt(spec, task, style="x")
