"""The OpenAI backend sends stop sequences in the request's ``stop`` field and cuts locally too."""

from faithscope.models.openai import OpenAIBackend


def _reply(prompt):
    return " a dog.\n\nPremise: more", {}


def test_stop_field_and_local_cut(fault_server):
    server = fault_server(reply=_reply)
    b = OpenAIBackend(server.base_url, "test-model", backoff=0.01, max_backoff=0.05, timeout=2.0)
    assert b.generate(["p", "q"], 8, stop=[["\n\n"], []]) == [" a dog.", " a dog.\n\nPremise: more"]
    stops = {body["prompt"]: body.get("stop") for body in server.bodies}
    assert stops == {"p": ["\n\n"], "q": None}
