"""The page's "Réponses" view: the replies dsar inbox left for the person, confirmed,
changed or skipped there as on the command line."""

from __future__ import annotations

import html

from dsar import clock
from dsar.app import App
from dsar.paths import Paths
from tests.inbox_setup import REGISTRY, TODAY
from tests.test_inbox import corpus, entry, inbox  # noqa: F401  (the corpus fixture)
from tests.test_web import anonymous, client, csrf_of  # noqa: F401  (the page fixtures)


def test_replies_view_confirms_a_changed_kind_and_skips(runner, corpus, client, dsar_home):  # noqa: F811
    made, folder = corpus
    assert inbox(runner, str(folder)).exit_code == 0
    # the page reads the user registry like the command line; the corpus's recipients
    (dsar_home / "brokers.yaml").write_text(REGISTRY.read_text())
    with clock.fixed(TODAY):
        page = client.get("/replies")
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert "Réponses à relire" in text and "carte d'identite" in text
        with App(Paths.from_env()) as app:
            from dsar.inbox import apply

            waiting = {i["source"].rsplit("/", 1)[1]: i for i in apply.pending(app)}
        token = csrf_of(page.text)

        def post(name: str, **data):
            return client.post(f"/replies/{waiting[name]['id']}", data={"csrf": token, **data})

        refusal = waiting["14-id-leadgen-passport.eml"]
        done = post(
            refusal["source"].rsplit("/", 1)[1],
            kind="refusal",
            reference=refusal["reference"],
            action="confirm",
        )
        assert done.status_code == 200, done.text
        assert "dsar complain" in html.unescape(done.text)  # the next action proposed
        assert post("41-newsletter-datacontact.eml", action="skip").status_code == 303
        refused = post("44-friend-unrelated.eml", kind="answer", reference="", action="confirm")
        assert refused.status_code == 400
        wrong = waiting["44-friend-unrelated.eml"]
        no_token = client.post(f"/replies/{wrong['id']}", data={"action": "skip"})
        assert no_token.status_code == 403
    assert entry(made["leadgen"]["reference"]).stored_state == "refused"
    with App(Paths.from_env()) as app:
        left = {i["source"].rsplit("/", 1)[1] for i in apply.pending(app)}
    assert "41-newsletter-datacontact.eml" not in left
    assert "44-friend-unrelated.eml" in left
