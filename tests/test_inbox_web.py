"""The page's "Réponses" view: the replies dsar inbox left for the person, confirmed,
changed or skipped there as on the command line."""

from __future__ import annotations

import html
import re
from datetime import date

from dsar import clock
from dsar.app import App
from dsar.paths import Paths
from tests.inbox_setup import REGISTRY, TODAY
from tests.test_inbox import corpus, entry, inbox  # noqa: F401  (the corpus fixture)
from tests.test_inbox_attack import EVIL, made, message, write  # noqa: F401  (a fixture)
from tests.test_web import anonymous, client, csrf_of  # noqa: F401  (the page fixtures)


def test_replies_view_confirms_a_changed_kind_and_skips(runner, corpus, client, dsar_home):  # noqa: F811
    made, folder = corpus  # noqa: F811  (the fixture of the test below)
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


def test_a_strangers_reply_dated_in_the_future_is_flagged_and_confirmed_on_the_day_given(
    runner,
    made,  # noqa: F811
    client,  # noqa: F811
    dsar_home,
    tmp_path,
):
    from dsar.inbox import apply

    reference = made["datacontact"]["reference"]
    phish = message(
        f"support@{EVIL}",
        f"Re: {reference}",
        "Merci de nous envoyer une copie de votre pièce d'identité.",
        day="Mon, 05 Oct 2099 10:00:00 +0200",
    )
    assert inbox(runner, str(write(tmp_path / "in", "phish.eml", phish))).exit_code == 0
    (dsar_home / "brokers.yaml").write_text(REGISTRY.read_text())
    with App(Paths.from_env()) as app:
        (item,) = apply.pending(app)
    with clock.fixed(TODAY):
        page = client.get("/replies")
        warnings = html.unescape(" ".join(re.findall(r'class="warning">([^<]*)<', page.text)))
        assert f"support@{EVIL}" in page.text and reference in warnings and "2099-10-05" in warnings
        data = {"csrf": csrf_of(page.text), "kind": "identity-request", "reference": reference}
        as_dated = client.post(f"/replies/{item['id']}", data={**data, "action": "confirm"})
        assert as_dated.status_code == 400
        assert entry(reference).stored_state == "sent"
        given = {**data, "action": "confirm", "day": "2026-10-05"}
        assert client.post(f"/replies/{item['id']}", data=given).status_code == 200
    assert entry(reference).stored_state == "id-requested"
    assert entry(reference).answered_on == date(2026, 10, 5)
