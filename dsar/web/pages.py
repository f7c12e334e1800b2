"""The page's routes: read a form, call one App method, show its result.

No decision lives here: what a letter says, which recipients match, what a state or a
deadline is, where a reply is kept, all come from dsar.app, as for the command line.
Every field posted is checked as the command line checks it, all at once; library
errors are shown next to the field they name and listed above the form, in the page's
words (web/words.py: the field's label, never a `--flag`); anything else is a short page
that says nothing was recorded, never a traceback. The page's language is held per
request (i18n.using), never switched for the whole process.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import compose, fields, follow, i18n, letters, lifecycle, profile
from ..app import App
from ..errors import DsarError, RequestExists
from ..paths import Paths
from ..vocabulary import ACCESS_ITEMS, ANSWER_STATES, CHANNELS, LANGUAGES, RIGHTS
from . import guard, words

HERE = Path(__file__).resolve().parent
LANG_COOKIE = "dsar_lang"
log = logging.getLogger(__name__)

# identify's text, sender and date are the message form's sms_* fields
IDENTIFY_FIELDS = {"text": "sms_text", "sender": "sms_sender", "date": "sms_date"}
MESSAGE_FIELDS = ("sms_text", "sms_sender", "sms_date", "channel")
DETAIL_FIELDS = ("name", "address", "phone", "email")
LETTER_FIELDS = (
    *MESSAGE_FIELDS,
    *DETAIL_FIELDS,
    "recipient",
    "right",
    "letter_lang",
    "party_confirmed",
)
CONTACT_FIELDS = ("to_email", "to_address", "source")
FOLLOW_UP_FIELDS = ("on", "lrar", "received", "proof", "state", "file", "note", "missing")


@dataclass
class Form:
    """What a person typed, and the errors to show beside each field."""

    values: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadFile] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def fail(self, exc: DsarError, shown: tuple[str, ...], aliases: dict | None = None) -> None:
        """The error beside the field it names (the first for each field); above the form
        when no field shows it."""
        name = exc.field and ((aliases or {}).get(exc.field) or words.ALIASES.get(exc.field))
        name = name or exc.field
        self.errors.setdefault(name if name in shown else "_form", words.said(exc))

    def check(self, checks: dict, shown: tuple[str, ...]) -> None:
        """Each field typed, checked as the command line checks it; every error at once."""
        for name, check in checks.items():
            if value := self.get(name):
                try:
                    check(value)
                except DsarError as exc:
                    self.fail(exc, shown)


# each field of a form, checked by the library's own check for it (compose.evidence and
# profile check the message and the person as `dsar generate` does)
MESSAGE_CHECKS = {
    "sms_text": lambda v: compose.evidence(text=v),
    "sms_sender": lambda v: compose.evidence(sender=v),
    "sms_date": lambda v: compose.evidence(received_on=v),
    "channel": lambda v: compose.evidence(channel=v),
}
LETTER_CHECKS = {
    **MESSAGE_CHECKS,
    "name": lambda v: profile.check("name", v),
    "address": profile.postal_address,
    "phone": lambda v: profile.check("phone", v),
    "email": lambda v: profile.check("email", v),
    "right": lambda v: fields.choice(v, RIGHTS, "right"),
    "letter_lang": lambda v: fields.language(v, "letter_lang"),
}
CONTACT_CHECKS = {
    "to_email": lambda v: fields.email(v, "to_email"),
    "to_address": lambda v: fields.text(v, "to_address", multiline=True, limit=500),
    "source": lambda v: fields.text(v, "source", limit=300),
}
FOLLOW_UP_CHECKS = {
    "on": lambda v: fields.iso_date(v, "on"),
    "received": lambda v: fields.iso_date(v, "received"),
    "lrar": lambda v: fields.text(v, "lrar", limit=40),
    "state": lambda v: fields.choice(v, ANSWER_STATES, "state"),
    "note": lambda v: fields.text(v, "note", limit=2000),
}


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value shown is escaped, like the letters
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # dsar's catalogue, in the language of the request being answered (i18n.using)
    env.install_gettext_callables(words.say, words.say_n, newstyle=True)
    env.globals.update(
        channel_names=words.CHANNELS,
        right_choices=words.RIGHT_CHOICES,
        right_names=words.RIGHTS,
        state_names=words.STATES,
        language_names=words.LETTER_LANGUAGES,
        kind_names=words.KINDS,
        quality_names=words.QUALITIES,
        downloads=words.DOWNLOADS,
        file_roles=words.FILE_ROLES,
        done_words=words.DONE,
        labels=words.LABELS,
        letter_kinds=words.LETTER_KINDS,
        access_item_names=words.ACCESS_ITEM_NAMES,
        reply_kinds=words.REPLY_KINDS,
        phone_shown=fields.phone_shown,
        web_link=fields.web_link,
        letter_gaps=letters.gaps,
        directory_link=compose.company_search,
        french_organisation=compose.is_french_organisation,
        registry_note=words.registry_note,
    )
    return env


class Site:
    """The routes, bound to the secret token and the person's dsar folders."""

    def __init__(self, token: str, paths: Paths | None = None):
        self.paths = paths or Paths.from_env()
        self.csrf = guard.csrf_token(token)
        self.root = guard.root_of(token)  # every link, form and redirect is under it
        self.env = environment()
        # the page writes where a person who never opened a terminal can find them again
        self.out_dir = self.paths.data_dir / "letters"
        # one letters form at a time: a second identical post finds the first's draft
        # in the journal (and writes it again) instead of its files without their record
        self.writing = threading.Lock()

    def app(self) -> App:
        return App(self.paths)

    # -------------------------------------------------------------- helpers

    def lang(self, request: Request) -> str:
        asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
        return asked if asked in LANGUAGES else "fr"

    def render(self, request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        # the request's language; said again for the error pages Starlette renders
        # outside the middleware that holds it
        with i18n.using(self.lang(request)):
            return self._render(request, name, status, **context)

    def _render(self, request: Request, name: str, status: int, **context) -> HTMLResponse:
        lang = i18n.language()

        def day(value) -> str:  # '23 décembre 2026', as the letters write dates
            return fields.long_date(fields.iso_date(value), lang) if value else "—"

        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        path = self.route_path(request)

        def switch(to: str) -> str:  # the same page in the other language
            return self.root + path + "?" + urlencode([*kept, ("lang", to)])

        html = self.env.get_template(name).render(
            switch=switch,
            day=day,
            lang=lang,
            path=path,
            root=self.root,
            csrf=self.csrf,
            channels=CHANNELS,
            rights=RIGHTS,
            languages=LANGUAGES,
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        if request.query_params.get("lang") in LANGUAGES:
            # under the page's own path: another server on this address does not get it
            response.set_cookie(
                LANG_COOKIE, lang, path=self.root + "/", httponly=True, samesite="strict"
            )
        return response

    def route_path(self, request: Request) -> str:
        """The page's path after the secret ('/requests', as the routes name it); one
        leading slash: '//host' would make a link to another site."""
        return "/" + request.url.path.removeprefix(self.root).lstrip("/")

    def see(self, where: str) -> RedirectResponse:
        """Sent on to another of the page's own paths (after a form)."""
        return RedirectResponse(self.root + where, status_code=303)

    async def read_form(self, request: Request) -> Form:
        """The form, refused without the CSRF token every page's forms carry."""
        try:
            data = await request.form(max_files=2, max_fields=40, max_part_size=guard.UPLOAD_LIMIT)
        except guard.Refused:
            raise
        except Exception as exc:  # a malformed body is the sender's fault, not ours
            raise HTTPException(400, "bad_form") from exc
        if not guard.same(
            data.get("csrf") if isinstance(data.get("csrf"), str) else None, self.csrf
        ):
            raise HTTPException(403, "no_csrf")
        form = Form()
        for key, value in data.multi_items():
            if isinstance(value, UploadFile):
                if value.filename:
                    form.files[key] = value
            else:
                form.values.setdefault(key, value.strip())
                form.lists.setdefault(key, []).append(value.strip())
        return form

    async def with_app(self, use):
        """Run use(app) with one App, in a worker thread (WeasyPrint and SQLite block)."""

        def run():
            with self.app() as app:
                return use(app)

        return await run_in_threadpool(run)

    async def call(self, method: str, *args, **kwargs):
        """One App use case."""
        return await self.with_app(lambda app: getattr(app, method)(*args, **kwargs))

    # -------------------------------------------------------------- the message

    async def home(self, request: Request) -> Response:
        return self.render(request, "message.html.j2", form=Form(), found=None, recipients=[])

    async def identify(self, request: Request) -> Response:
        form = await self.read_form(request)
        form.check(MESSAGE_CHECKS, MESSAGE_FIELDS)
        return await self.message_page(request, form, status=400 if form.errors else 200)

    async def message_page(self, request: Request, form: Form, status: int = 200) -> Response:
        """The message, what identify found, and the details form prefilled."""

        def use(app):
            found = app.identify(
                text=form.get("sms_text"),
                sender=form.get("sms_sender"),
                when=form.get("sms_date") or None,
                channel=form.get("channel") or None,
            )
            return found, app.saved_profile(), app.brokers().brokers

        found, saved, recipients = None, {}, []
        try:
            found, saved, recipients = await self.with_app(use)
        except DsarError as exc:
            form.fail(exc, MESSAGE_FIELDS, IDENTIFY_FIELDS)
            status = 400
        if status == 400 and any(name in MESSAGE_FIELDS for name in form.errors):
            found = None  # the message itself is wrong: fix it before anything else
        for name in DETAIL_FIELDS:
            form.values.setdefault(name, saved.get(name, ""))
        if form.get("phone"):  # saved as +33612345678, shown as people write it
            form.values["phone"] = fields.phone_shown(form.get("phone"))
        return self.render(
            request,
            "message.html.j2",
            status=status,
            form=form,
            found=found,
            recipients=recipients,
        )

    async def write_letters(self, request: Request) -> Response:
        form = await self.read_form(request)
        chosen = [s for s in form.lists.get("recipient", []) if s]
        if form.get("other"):
            chosen.append(form.get("other"))
        chosen = list(dict.fromkeys(chosen))
        form.check(LETTER_CHECKS, LETTER_FIELDS)
        if not chosen:
            form.fail(DsarError("no_recipient", field="recipient"), LETTER_FIELDS)
        confirmed = list(dict.fromkeys(form.lists.get("party_confirmed", [])))
        if len(confirmed) > 1:
            form.fail(DsarError("one_party", field="party_confirmed"), LETTER_FIELDS)
        if form.errors:
            return await self.message_page(request, form, status=400)
        details = {name: form.get(name) or None for name in DETAIL_FIELDS}

        def use(app):  # one App: the PDF renderer starts once for every letter
            for slug in chosen:  # an unknown recipient, before any letter is written
                app.broker(slug)
            if form.get("save_profile"):
                app.save_profile(**details)
            with self.writing:
                return [write(app, slug) for slug in chosen]

        def write(app, slug):
            try:
                return app.generate(
                    slug,
                    **details,
                    sms_date=form.get("sms_date") or None,
                    sms_sender=form.get("sms_sender"),
                    sms_text=form.get("sms_text"),
                    channel=form.get("channel") or "sms",
                    right=form.get("right") or "both",
                    lang=form.get("letter_lang") or "fr",
                    # the e-mail needs the person's address to answer to
                    formats=("pdf", "email") if details["email"] else ("pdf",),
                    out_dir=self.out_dir,
                    lrar=bool(form.get("lrar")),
                    party_confirmed=confirmed[0] if confirmed else None,
                    redo_draft=True,  # back, change the language, write again
                ).reference
            except RequestExists as exc:  # written on the command line: shown, not replaced
                return exc.reference

        try:
            references = await self.with_app(use)
        except DsarError as exc:
            form.fail(exc, LETTER_FIELDS)
            return await self.message_page(request, form, status=400)
        query = urlencode([("ref", r) for r in references])
        return self.see(f"/letters?{query}")

    # -------------------------------------------------------------- the letters

    async def letters(
        self, request: Request, refs: list[str] | None = None, form: Form | None = None
    ) -> Response:
        refs = refs or request.query_params.getlist("ref")[:10]
        try:
            shown = await self.with_app(lambda app: [app.show(r) for r in refs])
        except DsarError:
            raise HTTPException(404) from None
        return self.render(
            request,
            "letters.html.j2",
            status=400 if form else 200,
            shown=shown,
            refs=refs,
            back=request.query_params.get("from"),
            form=form or Form(),
            blank=Form(),
        )

    async def complete(self, request: Request) -> Response:
        """The contact a person found for a recipient the registry knows no way to reach."""
        reference = request.path_params["reference"]
        form = await self.read_form(request)
        form.values["_reference"] = reference
        refs = form.lists.get("ref", [reference])[:10]
        to_email, to_address = form.get("to_email") or None, form.get("to_address") or None
        form.check(CONTACT_CHECKS, CONTACT_FIELDS)
        if form.errors:
            return await self.letters(request, refs, form)
        try:
            if form.get("keep_contact"):  # for the next letters too, with where it was found
                slug = (await self.call("show", reference)).request.broker.slug
                await self.call(
                    "add_contact",
                    slug,
                    source=form.get("source"),
                    email=to_email,
                    postal=to_address,
                )
            await self.call("complete", reference, to_email=to_email, to_address=to_address)
        except DsarError as exc:
            form.fail(exc, CONTACT_FIELDS, {"email": "to_email", "postal": "to_address"})
            return await self.letters(request, refs, form)
        query = urlencode([("ref", r) for r in refs])
        return self.see(f"/letters?{query}#h-{reference}")

    async def preview(self, request: Request) -> Response:
        """The letter exactly as dsar renders it for the PDF, in a sandboxed frame."""
        try:
            shown = await self.call("show", request.path_params["reference"])
        except DsarError:
            raise HTTPException(404) from None
        if not shown.page_html:
            raise HTTPException(404)
        return HTMLResponse(
            shown.page_html,
            headers={
                # its own inline style only; no script, no fetch, and only this page frames it
                "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
                "img-src data:; font-src data:; sandbox; frame-ancestors 'self'",
            },
        )

    async def download(self, request: Request) -> Response:
        try:
            shown = await self.call("show", request.path_params["reference"])
        except DsarError:
            raise HTTPException(404) from None
        index = request.path_params["index"]
        if not 0 <= index < len(shown.files):
            raise HTTPException(404)
        path = shown.files[index][1]
        if not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, filename=path.name, content_disposition_type="attachment")

    # -------------------------------------------------------------- my requests

    async def requests(self, request: Request) -> Response:
        # an association's journal: one member's requests (part of the name, as dsar status)
        member = request.query_params.get("member", "").strip()[:200] or None
        status, recipients = await self.with_app(
            lambda app: (app.status(member=member), app.brokers())
        )
        names = {b.slug: b.name for b in recipients.brokers}
        return self.render(
            request, "requests.html.j2", journal=status, names=names, member=member or ""
        )

    async def one_request(self, request: Request, form: Form | None = None, status=200):
        reference = request.path_params["reference"]
        try:
            shown, as_of, follow_ups = await self.with_app(
                lambda app: (app.show(reference), app.today(), app.journal.follow_ups(reference))
            )
            trail, named = await self.with_app(lambda app: next_request_facts(app, reference))
        except DsarError:
            raise HTTPException(404) from None
        return self.render(
            request,
            "request.html.j2",
            status=status,
            shown=shown,
            as_of=as_of,
            today=as_of.isoformat(),
            form=form or Form(),
            blank=Form(),
            answer_states=ANSWER_STATES,
            access_items=ACCESS_ITEMS,
            # the forms shown are the actions the lifecycle allows now, nothing else
            actions=lifecycle.next_actions(shown.entry, as_of),
            follow_ups=follow_ups,
            done=request.query_params.get("done"),
            trail=trail,
            named=named,
        )

    async def next_request(self, request: Request) -> Response:
        """The next request to the organisation an answer named (dsar follow)."""
        reference = request.path_params["reference"]
        form = await self.read_form(request)
        form.values["_action"] = "next"
        try:
            result = await self.call(
                "follow",
                reference,
                to=form.get("to") or None,
                to_name=None if form.get("to") else form.get("to_name") or None,
                to_address=form.get("to_address") or None,
                to_email=form.get("to_email") or None,
                out_dir=self.out_dir,
            )
        except DsarError as exc:
            form.fail(exc, NEXT_FIELDS)
            return await self.one_request(request, form, status=400)
        return self.see(letters_of(result.reference, reference))

    async def follow_up(self, request: Request) -> Response:
        reference = request.path_params["reference"]
        action = request.path_params["action"]
        form = await self.read_form(request)
        form.values["_action"] = action
        form.check(FOLLOW_UP_CHECKS, FOLLOW_UP_FIELDS)
        if form.errors:
            return await self.one_request(request, form, status=400)
        try:
            with tempfile.TemporaryDirectory(prefix="dsar-upload-") as folder:
                if action == "sent":
                    await self.call(
                        "sent",
                        reference,
                        form.get("on") or None,
                        lrar=form.get("lrar") or None,
                        received=form.get("received") or None,
                        proofs=[p for p in [await keep_upload(form, "proof", Path(folder))] if p],
                    )
                elif action == "answer":
                    reply = await keep_upload(form, "file", Path(folder))
                    await self.call(
                        "answer",
                        reference,
                        form.get("on") or None,
                        state=form.get("state") or None,
                        files=[reply] if reply else [],
                        note=form.get("note") or None,
                        missing=[m for m in form.lists.get("missing", []) if m] or None,
                    )
                elif action == "remind":
                    # the reminder goes the way the request went (pdf, e-mail)
                    result = await self.with_app(
                        lambda app: app.remind(
                            reference,
                            formats=app.show(reference).entry.medium,
                            out_dir=self.out_dir,
                        )
                    )
                    return self.see(letters_of(result.reference, reference))
                elif action == "complain":
                    result = await self.call("complain", reference, out_dir=self.out_dir)
                    return self.see(letters_of(result.reference, reference))
                else:
                    raise HTTPException(404)
        except DsarError as exc:
            form.fail(exc, FOLLOW_UP_FIELDS, {"reply": "file"})
            return await self.one_request(request, form, status=400)
        return self.see(f"/requests/{reference}?done={action}")

    # -------------------------------------------------------------- replies (dsar inbox)

    async def replies(self, request: Request, form: Form | None = None, status=200, done=None):
        from ..inbox import apply, meaning

        waiting, today = await self.with_app(lambda app: (apply.pending(app), app.today()))
        return self.render(
            request,
            "replies.html.j2",
            status=status,
            waiting=waiting,
            today=today.isoformat(),
            kinds=meaning.KINDS,
            form=form or Form(),
            done=done,
        )

    async def reply(self, request: Request) -> Response:
        """Confirm (with the kind and reference shown, or changed) or skip one reply."""
        from ..inbox import apply

        number = request.path_params["number"]
        form = await self.read_form(request)
        try:
            if form.get("action") == "skip":
                await self.with_app(lambda app: apply.skip(app, number))
                return self.see("/replies")

            def use(app):
                day = fields.iso_date(form.get("day"), "day") if form.get("day") else None
                what = apply.confirm(
                    app, number, form.get("kind"), form.get("reference") or None, day
                )
                item = apply.message(app, number)
                return what, apply.next_action(app, item["reference"], item["facts"])

            done = await self.with_app(use)
        except DsarError as exc:
            form.values["_number"] = str(number)
            form.fail(exc, ("reference", "kind", "day"))
            return await self.replies(request, form, status=400)
        return await self.replies(request, done=done)

    # -------------------------------------------------------------- errors

    async def refused(self, request: Request, exc: HTTPException) -> Response:
        """404, a form without its token, a form that cannot be read: said in the page's words."""
        message = words.REFUSALS.get(exc.detail, words.REFUSALS["not_found"])
        return self.render(request, "error.html.j2", status=exc.status_code, message=message)

    async def broken(self, request: Request, exc: Exception) -> Response:
        """The catch-all: a short page, never a traceback (it goes to the log, not the page)."""
        if isinstance(exc, guard.Refused):
            return self.render(request, "error.html.j2", status=exc.status, message=exc.reason)
        log.error("unexpected error on %s", self.route_path(request), exc_info=exc)
        message = words.REFUSALS["broken"]
        return self.render(request, "error.html.j2", status=500, message=message)


MAX_NAME_BYTES = 120


NEXT_FIELDS = ("to", "to_name", "to_address", "to_email")


def next_request_facts(app: App, reference: str) -> tuple[dict, list[dict]]:
    """The request's chain (dsar trail), and the organisations its answers named, each
    with the registry's slug when it has one and the request already written to it:
    what the next-request form offers (follow.named_organisations)."""
    trail = app.trail(reference)[0]
    return trail, follow.named_organisations(app.journal, app.registry, reference)


def letters_of(reference: str, original: str) -> str:
    return "/letters?" + urlencode({"ref": reference, "from": original})


async def keep_upload(form: Form, name: str, folder: Path) -> Path | None:
    """An uploaded file, as a file on disk the library stores like `--file` (by its name
    only: whatever path the browser sent is dropped)."""
    upload = form.files.get(name)
    if upload is None:
        return None
    base = Path((upload.filename or "").replace("\\", "/")).name
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").lstrip(".")
    while len(base.encode("utf-8")) > MAX_NAME_BYTES:  # a file system's name limit is 255
        base = base[1:]  # the end holds the extension
    target = folder / (base or "file")
    with target.open("wb") as out:
        while chunk := await upload.read(1 << 20):
            out.write(chunk)
    return target


class PageLanguage:
    """The page's words and the library's (errors, identify's reasons) in the language
    of this request, held in a context variable: two requests at once in French and
    English each get their own, and the worker threads they start copy it."""

    def __init__(self, app, site: Site):
        self.app, self.site = app, site

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        with i18n.using(self.site.lang(Request(scope))):
            await self.app(scope, receive, send)


def create_app(
    token: str, port: int, paths: Paths | None = None, *, host: str = "127.0.0.1"
) -> Starlette:
    site = Site(token, paths)
    routes = [
        Route("/", site.home),
        Route("/identify", site.identify, methods=["POST"]),
        Route("/letters", site.letters),
        Route("/letters/new", site.write_letters, methods=["POST"]),
        Route("/letters/{reference}/preview", site.preview),
        Route("/letters/{reference}/contact", site.complete, methods=["POST"]),
        Route("/requests", site.requests),
        Route("/replies", site.replies),
        Route("/replies/{number:int}", site.reply, methods=["POST"]),
        Route("/requests/{reference}", site.one_request),
        Route("/requests/{reference}/files/{index:int}", site.download),
        Route("/requests/{reference}/next", site.next_request, methods=["POST"]),
        Route("/requests/{reference}/{action}", site.follow_up, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(guard.Guard, token=token, port=port, host=host),
            Middleware(PageLanguage, site=site),
        ],
        exception_handlers={
            HTTPException: site.refused,
            guard.Refused: site.broken,
            Exception: site.broken,
        },
    )
