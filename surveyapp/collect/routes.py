"""The public form, reached three ways: a counter poster (/f/<code>), a single-use slip
(/s/<code>) or a personal invitation (/i/<code>, which can also save a draft)."""

from __future__ import annotations

import functools
import json
import zlib
from datetime import UTC, datetime

from flask import current_app, g, make_response, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.datastructures import MultiDict

from questionnaires.model import DEFAULT_LANGUAGE

from .. import anonymity, csrf, ratelimit
from ..db import db, session
from ..messages import FIELD_ERRORS
from ..models import Campaign, CampaignStatus, Channel, CounterAccess, InvitationDraft, utcnow
from ..web import fail, notice
from . import bp, door, quality, quick, screens
from . import dossier as dossiers
from .fast import CounterPoint, can_store_in_one_statement, counter_point, store_counter_response
from .forms import build_form_class, quick_check, rows_of
from .services import (
    FormContext,
    Outcome,
    campaign_accepts,
    new_submission_token,
    questionnaire_of,
    quota_is_full,
    rated_units,
    read_submission_token,
    recent_from_address,
    recent_from_device,
    resolve_invitation,
    resolve_point,
    resolve_slip,
    store_response,
)

ALWAYS_ALLOWED_FIELDS = {"csrf_token", "submission_id", "intent", "screen", "goto"}
DEVICE_COOKIE = door.DEVICE_COOKIE
DEVICE_COOKIE_AGE = 365 * 24 * 3600
OUTCOME_PAGES = {
    Outcome.DOSSIER_USED: ("dossier_used", 409),
    Outcome.QUOTA_FULL: ("quota_full", 409),
    Outcome.CONFLICT: ("submission_conflict", 409),
    Outcome.ALREADY_USED: ("already_answered", 409),
}


def _require_open(ctx: FormContext) -> None:
    refusal = campaign_accepts(ctx.campaign)
    if refusal:
        fail(refusal, 410 if ctx.campaign.status == CampaignStatus.CLOSED else 403)


def _address_hash(campaign_id: int) -> str:
    """The sender's address under the campaign's keyed hash (the address-burst flag)."""
    return quality.address_hash(current_app.config["SECRET_KEY"], request.remote_addr or "", campaign_id)


def _device_hash(campaign_id: int) -> str | None:
    device = request.cookies.get(DEVICE_COOKIE)
    return quality.device_hash(current_app.config["SECRET_KEY"], device, campaign_id) if device else None


def _limits(view):
    """Submissions are limited per phone and per address (generous: a counter's shared Wi-Fi).
    The address is counted under a salted hash: the counter store never holds it."""

    @functools.wraps(view)
    def limited(*args, **kwargs):
        if request.method == "POST":
            if not door.csrf_ok():  # the public forms' CSRF check (door.py; CSRFProtect skips them)
                fail("csrf", 400)
            config = current_app.config
            # the counter store keeps keyed hashes, never the cookie or the address themselves
            key = quality.hash_key(config["SECRET_KEY"], "rate limits")
            address = quality.keyed_hash(key, "address", request.remote_addr or "")
            cookie = request.cookies.get(DEVICE_COOKIE)
            device = quality.keyed_hash(key, "device", cookie) if cookie else f"none:{address}"
            if not ratelimit.allow_all(
                ("device", device, config["RATELIMIT_PER_DEVICE"]),
                ("address", address, config["RATELIMIT_PER_ADDRESS"]),
            ):
                fail("rate_limited", 429)
        return view(*args, **kwargs)

    return limited


@bp.route("/e/<key>-<digest>")
def emblem(key: str, digest: str):
    """A campaign's emblem, at an address that changes with it: cached by phones for a year."""
    row = (
        session()
        .execute(
            select(Campaign.emblem, Campaign.emblem_type).where(Campaign.key == key, Campaign.emblem_hash == digest)
        )
        .first()
    )
    if row is None or row.emblem is None:
        fail("point_unknown", 404)
    response = make_response(row.emblem)
    response.headers["Content-Type"] = row.emblem_type
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.route("/f/<code>", methods=["GET", "POST"])
@_limits
def answer(code: str):
    point = counter_point(session, code)  # a poster seen a moment ago opens no database session
    if point is not None and point.takes_answers and "lang" not in request.args and not point.questionnaire.quick:
        done = _answer_counter(point, code)
        if done is not None:
            return done
    s = session()
    ctx = resolve_point(s, code)
    if ctx is None:
        fail("point_unknown", 404)
    if not ctx.point.active:
        fail("point_inactive", 410)
    _require_open(ctx)
    if ctx.group.counter_access == CounterAccess.SLIPS:
        fail("poster_disabled", 403)
    return _handle(ctx, url_for("collect.answer", code=code), code)


@bp.route("/s/<code>", methods=["GET", "POST"])
@_limits
def slip(code: str):
    ctx = resolve_slip(session(), code)
    if ctx is None:
        fail("point_unknown", 404)
    _require_open(ctx)
    if ctx.group.counter_access == CounterAccess.POSTER:
        fail("slips_disabled", 403)
    if ctx.slip.used and request.method == "GET":
        fail("slip_used", 410)
    return _handle(ctx, url_for("collect.slip", code=code), code)


@bp.route("/i/<code>", methods=["GET", "POST"])
def invitation(code: str):
    if request.method == "POST" and not door.csrf_ok():
        fail("csrf", 400)
    ctx = resolve_invitation(session(), code)
    if ctx is None:
        fail("invitation_unknown", 404)
    if ctx.invitation.revoked:
        fail("invitation_revoked", 410)
    _require_open(ctx)
    if request.method == "GET" and anonymity.has_answered(session(), ctx.invitation):
        fail("already_answered", 410)
    if request.method == "GET":
        _mark_opened(ctx)
    return _handle(ctx, url_for("collect.invitation", code=code), code, drafts=True)


def _mark_opened(ctx: FormContext) -> None:
    """The first view of a personal link is recorded (a keyed hash, README "Anonymity") so the
    office sees who opened it; a second phone opening it at the same moment changes nothing."""
    s = session()
    try:
        if anonymity.mark_opened(s, ctx.invitation):
            s.commit()
    except IntegrityError:
        s.rollback()


# the public forms check their own CSRF value, bound to the device cookie (door.py), not the session's
for _view in (answer, slip, invitation):
    csrf.exempt(_view)


def _answer_counter(point: CounterPoint, code: str):
    """The common case of a poster (open, quota not full, a good submission) without the general
    path's queries; None when anything is unusual, and the general path (``_handle``) then decides."""
    form_class = build_form_class(point.questionnaire, {})
    action = url_for("collect.answer", code=code)
    secret = current_app.config["SECRET_KEY"]
    if request.method == "GET":
        if point.quota_full:
            return None
        page = {"ctx": point, "questionnaire": point.questionnaire, "units": {}, "action": action, "draft_key": code,
                "drafts": False, "asks_dossier": False}  # fmt: skip
        return _fresh_form(_blank_page(_blank_key(page, point.content_hash), page, form_class), secret)

    engine = db.autocommit_engine
    if not can_store_in_one_statement(engine) or set(request.form) - (form_class.names | ALWAYS_ALLOWED_FIELDS):
        return None
    parsed = read_submission_token(secret, request.form.get("submission_id", ""))
    checked = quick_check(form_class, request.form) if parsed is not None else None
    if checked is None:  # anything but a plainly valid form: WTForms decides, on the general path
        return None
    values, visible = checked
    submission_id, shown_at = parsed
    rows = rows_of(form_class.entries, values, visible, point.unit.id)
    now = datetime.now(UTC)
    flags = _flags(point, point.questionnaire, len(visible), rows, shown_at, now, recent_from_device=0)
    store = functools.partial(
        store_counter_response, point=point, submission_id=submission_id, started_at=shown_at, rows=rows, now=now,
        # the burst flags are counted inside the statement; the others keep flags_for's order around them
        flags_before=[f for f in flags if f in ("too_fast", "straight_lining")],
        flags_after=[f for f in flags if f == "off_hours"],
        device_hash=_device_hash(point.campaign.id), address_hash=_address_hash(point.campaign.id),
    )  # fmt: skip
    try:
        with engine.connect() as conn:  # no ORM session: one statement, its own transaction
            stored = store(conn)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        # a connection the database had dropped (restarted, idle timeout); nothing was stored on it
        # that a retry could store twice: the submission id is unique
        with engine.connect() as conn:
            stored = store(conn)
    return _thanks(point, code, submission_id) if stored else None


def _flags(ctx, questionnaire, asked: int, rows, shown_at, now, recent_from_device: int, recent_from_address: int = 0):
    scale_ids = {q.id for q in questionnaire.scale_items()}
    return quality.flags_for(
        shown_at=shown_at,
        submitted_at=now,
        questions=asked,
        min_seconds=ctx.campaign.min_seconds_per_question,
        scale_levels=[r.value_num for r in rows if r.question_id in scale_ids],
        recent_from_device=recent_from_device,
        recent_from_address=recent_from_address,
        burst_limit=ctx.campaign.burst_limit,
        opening_hours=ctx.unit.opening_hours,
        check_hours=ctx.campaign.check_opening_hours and ctx.channel != Channel.INVITATION,
    )


def _fresh_form(blank_html: str, secret: str):
    """The blank form with this visitor's CSRF token and a new submission id.

    A phone asks for it compressed. The page up to the two tokens (placed last in the form) is
    gzip-compressed once per blank page; each visitor's copy continues from a copy of that
    compressor with the last few hundred bytes: one gzip stream, as if compressed whole, for a
    fraction of the CPU (0.25 ms less per form; gzip level 9 is within 3 % of brotli's size here)."""
    device, new = door.device_id()
    csrf, submission = door.csrf_for(device), new_submission_token(secret)
    if not request.accept_encodings["gzip"]:
        body = blank_html.replace(CSRF_MARK, csrf).replace(SUBMISSION_MARK, submission)
        return _with_device_cookie((body, 200), device if new else None)
    head, compressor, tail = _compressed_head(blank_html)
    rest = compressor.copy()
    body = (
        head + rest.compress(tail.replace(CSRF_MARK, csrf).replace(SUBMISSION_MARK, submission).encode()) + rest.flush()
    )
    response = make_response(body, 200)
    response.headers["Content-Encoding"] = "gzip"  # Flask-Compress leaves an encoded response alone
    response.headers["Vary"] = "Accept-Encoding"
    return _with_device_cookie((response, 200), device if new else None)


@functools.lru_cache(maxsize=64)
def _compressed_head(blank_html: str):
    """The blank page up to its first per-visitor mark as gzip output, the compressor's state to
    continue from, and the rest of the page (the key is the cached page itself)."""
    split = min(blank_html.index(CSRF_MARK), blank_html.index(SUBMISSION_MARK))
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip header and trailer
    return compressor.compress(blank_html[:split].encode()), compressor, blank_html[split:]


def _handle(ctx: FormContext, action: str, draft_key: str, drafts: bool = False):
    s = session()
    questionnaire = ctx.questionnaire
    language = request.args.get("lang", DEFAULT_LANGUAGE)
    if language != DEFAULT_LANGUAGE and language in questionnaire.languages:
        questionnaire = questionnaire_of(ctx.version, language)
        action = f"{action}?lang={language}"
    else:
        language = DEFAULT_LANGUAGE
    units = rated_units(s, ctx.group, ctx.campaign, questionnaire)
    form_class = build_form_class(questionnaire, units)
    secret = current_app.config["SECRET_KEY"]
    page = {"ctx": ctx, "questionnaire": questionnaire, "units": units, "action": action, "draft_key": draft_key,
            "drafts": drafts, "asks_dossier": asks_dossier(ctx)}  # fmt: skip

    if quick.asks_quick(ctx, questionnaire):
        done = _quick(s, page, form_class, secret, language, _with_device_cookie)
        if done is not None:
            return done
    paged = screens.is_paged(drafts, units)
    if request.method == "GET":
        if quota_is_full(s, ctx.campaign, ctx.group.id, ctx.unit.id):
            return notice("quota_full", 200)
        draft = _draft(s, ctx) if drafts else None
        if paged:
            return _with_device_cookie(_open_screens(page, form_class, draft, secret))
        if draft is not None:
            form = form_class(formdata=_draft_data(draft))
            form.submission_id.data = draft.submission_token
            return _render(page, form, 200, saved_at=draft.saved_at)
        return _fresh_form(_blank_page(_blank_key(page, ctx.version.content_hash), page, form_class), secret)

    if set(request.form) - (form_class.names | allowed_fields(page)):
        fail("unknown_fields", 400)
    token = request.form.get("submission_id", "")
    parsed = read_submission_token(secret, token)
    if parsed is None:
        fail("bad_submission", 400)
    submission_id, shown_at = parsed

    if paged and "screen" in request.form:
        return _post_screen(s, page, form_class, token, parsed, language)
    if drafts and request.form.get("intent") == "save":
        return _save_draft(s, ctx, page, form_class, token)

    form = form_class()
    valid = form.validate()
    code, problem = dossier_code(page)
    if not valid or problem:
        return _render(page, form, 422, dossier_error=problem)
    return _store(s, page, form, submission_id, shown_at, language, code)


def asks_dossier(ctx) -> bool:
    """The form asks the receipt's dossier code: groups that ask it, at the counter or on a slip."""
    return bool(getattr(ctx.group, "asks_dossier", False)) and ctx.channel in (Channel.COUNTER, Channel.SLIP)


def allowed_fields(page: dict) -> set[str]:
    return ALWAYS_ALLOWED_FIELDS | ({dossiers.FIELD} if page.get("asks_dossier") else set())


def dossier_code(page: dict) -> tuple[str | None, str | None]:
    """(the posted dossier code, normalised, or None; the Vietnamese message when it is missing
    or cannot be one). Never logged, never stored: only its keyed hash is (collect/dossier.py)."""
    if not page.get("asks_dossier"):
        return None, None
    typed = request.form.get(dossiers.FIELD, "")
    code = dossiers.normalise(typed)
    if code is not None:
        return code, None
    return None, FIELD_ERRORS["dossier_missing" if not typed.strip() else "dossier_malformed"]


def _store(s, page: dict, form, submission_id: str, shown_at, language: str, code: str | None = None):
    """A validated form stored (or refused: quota full, a conflict, already answered)."""
    ctx = page["ctx"]
    rows = form.answer_rows(ctx.unit.id)
    device_hash = _device_hash(ctx.campaign.id)
    address_hash = _address_hash(ctx.campaign.id)
    flags = _flags(
        ctx, page["questionnaire"], len(form.visible_names), rows, shown_at, datetime.now(UTC),
        recent_from_device=recent_from_device(s, ctx.campaign.id, device_hash, cap=ctx.campaign.burst_limit),
        recent_from_address=recent_from_address(
            s, ctx.campaign.id, address_hash, cap=ctx.campaign.burst_limit * quality.ADDRESS_BURST_FACTOR
        ),
    )  # fmt: skip
    outcome = store_response(
        s, ctx, submission_id, shown_at, rows, flags=flags, device_hash=device_hash, address_hash=address_hash,
        language=language, dossier=code,
    )  # fmt: skip
    if outcome is Outcome.STORED:
        s.commit()
    if outcome in (Outcome.STORED, Outcome.REPLAYED):
        if page.get("rating"):
            return quick_thanks(page, submission_id)
        return _thanks(ctx, page["draft_key"], submission_id)
    return notice(*OUTCOME_PAGES[outcome])


# -- the one-tap rating (quick.py) ------------------------------------------------------------------
def _quick(s, page: dict, full_class, secret: str, language: str, wrap):
    """A counter form opening with the one-tap rating: the rating page, the rating sent, or its
    "tell us more"; None for a whole form posted as such (the general path stores it).
    ``wrap`` makes a response of (body, status): the device cookie, and no-store on a tablet."""
    ctx, questionnaire = page["ctx"], page["questionnaire"]
    rating_class = quick.form_class_of(questionnaire)
    if request.method == "GET":
        if quota_is_full(s, ctx.campaign, ctx.group.id, ctx.unit.id):
            return wrap(notice("quota_full", 200))
        form = rating_class(formdata=None)
        form.submission_id.data = new_submission_token(secret)
        return wrap(quick.render(page, form, _page_csrf()))
    if quick.FIELD in request.form:
        return wrap(tell_more(s, page, full_class))
    if request.form.get("intent") != "quick":
        return None
    if set(request.form) - (rating_class.names | allowed_fields(page)):
        fail("unknown_fields", 400)
    parsed = read_submission_token(secret, request.form.get("submission_id", ""))
    if parsed is None:
        fail("bad_submission", 400)
    form = rating_class()
    valid = form.validate()
    code, problem = dossier_code(page)
    if not valid or problem:
        return wrap(quick.render(page, form, _page_csrf(), 422, dossier_error=problem))
    submission_id, shown_at = parsed
    return wrap(_store(s, page | {"rating": True}, form, submission_id, shown_at, language, code))


def quick_thanks(page: dict, submission_id: str, **extra):
    """The thank-you page of a rating, with "Góp ý thêm" (its signed value bound to this phone)."""
    html = render_template("collect/thanks.html", ctx=page["ctx"], code=page["draft_key"], submission_id=submission_id,
                           more=quick.more_token(submission_id), action=page["action"], csrf_token=_page_csrf(),
                           **extra)  # fmt: skip
    return html, 200


def tell_more(s, page: dict, full_class, **thanks):
    """ "Góp ý thêm": the whole form with the rating filled in (``more_open``), or its answers
    added to the rating's response, once (``more_send``)."""
    ctx, questionnaire = page["ctx"], page["questionnaire"]
    if set(request.form) - (full_class.names | ALWAYS_ALLOWED_FIELDS | {quick.FIELD}):
        fail("unknown_fields", 400)
    token = request.form.get(quick.FIELD, "")
    submission_id = quick.read_more_token(token)
    if submission_id is None:
        fail("more_expired", 410)
    response = quick.rated(s, ctx, submission_id)
    if response is None:
        fail("more_expired", 410)
    if response.more_added:  # a second tap on "Gửi phiếu": thanked again
        return _thanks(ctx, page["draft_key"], submission_id)
    more_page = page | {"more": token, "asks_dossier": False, "draft_key": f"{page['draft_key']}.more"}
    rating = quick.rating_data(s, response, questionnaire)
    if request.form.get("intent") == quick.OPEN:
        form = full_class(formdata=rating)
        form.submission_id.data = submission_id
        return _render(more_page, form, 200)
    form = full_class(formdata=quick.merged(request.form, rating, questionnaire))
    form.submission_id.data = submission_id
    if not form.validate():
        return _render(more_page, form, 422)
    if quick.add_more(s, response, form.answer_rows(ctx.unit.id), questionnaire):
        s.commit()
    return _thanks_page(ctx, page["draft_key"], submission_id, **thanks)


# -- one screen at a time ---------------------------------------------------------------------------
def _draft_data(draft: InvitationDraft | None) -> MultiDict:
    if draft is None:
        return MultiDict()
    return MultiDict([(k, v) for k, values in json.loads(draft.data).items() for v in values])


def _open_screens(page: dict, form_class, draft: InvitationDraft | None, secret: str):
    """A paged form opened: a new one at its first screen, a saved one where it was left."""
    data = _draft_data(draft)
    token = draft.submission_token if draft is not None else new_submission_token(secret)
    plan = screens.plan_screens(page["questionnaire"], form_class.entries)
    visible = screens.visible_names(form_class.entries, data)
    states = screens.screen_states(plan, visible, data)
    index = screens.first_unfinished(states) if draft is not None else 0
    form = form_class(formdata=data)
    form.submission_id.data = token
    grid = screens.grid_of(plan)
    if request.args.get("view") == "grid" and grid is not None:
        return _render_grid(page, form, plan, grid, states, 200)
    return _render_screen(page, form, plan, index, visible, states, 200, resumed=draft is not None)


def _post_screen(s, page: dict, form_class, token: str, parsed: tuple, language: str):
    """A screen posted: merged into the draft, then the next screen (or the one asked for), or,
    on "Gửi phiếu", the whole form validated and stored."""
    ctx = page["ctx"]
    plan = screens.plan_screens(page["questionnaire"], form_class.entries)
    grid = screens.grid_of(plan)
    on_grid = request.form.get("screen") == "grid"
    if on_grid and grid is None:
        fail("bad_submission", 400)
    current = grid.first if on_grid else _screen_number(request.form.get("screen"), len(plan))
    if anonymity.has_answered(s, ctx.invitation):
        return notice("already_answered", 409)
    draft = _draft(s, ctx)
    posted = grid if on_grid else plan[current]
    data = screens.merge_screen(_draft_data(draft), request.form, posted, form_class.names)
    intent = request.form.get("intent", "next")
    if intent == "submit":
        form = form_class(formdata=data)
        form.submission_id.data = token
        if form.validate():
            submission_id, shown_at = parsed
            return _store(s, page, form, submission_id, shown_at, language)
    _keep_draft(s, ctx, draft, data, token)
    visible = screens.visible_names(form_class.entries, data)
    states = screens.screen_states(plan, visible, data)
    if intent == "submit":  # not valid: the first screen with a problem
        index = next(i for i, screen in enumerate(plan) if any(form[e.name].errors for e in screen.entries))
        return _render_screen(page, form, plan, index, visible, states, 422)
    form = form_class(formdata=data)
    form.submission_id.data = token
    wants_grid = request.form.get("goto") == "grid" or (on_grid and intent == "save" and "goto" not in request.form)
    if wants_grid and grid is not None:
        return _render_grid(page, form, plan, grid, states, 200, just_saved=intent == "save")
    if "goto" in request.form:
        index = _screen_number(request.form.get("goto"), len(plan))
    elif on_grid:  # from the grid: on past the units, or back before them
        index = max(grid.first - 1, 0) if intent == "prev" else min(grid.last + 1, len(plan) - 1)
    elif intent == "prev":
        index = max(current - 1, 0)
    elif intent == "save":
        index = current
    else:
        index = min(current + 1, len(plan) - 1)
    return _render_screen(page, form, plan, index, visible, states, 200, just_saved=intent == "save")


def _render_grid(page: dict, form, plan, grid, states, status: int, **extra):
    return render_template(
        "collect/grid.html", form=form, plan=plan, grid=grid, states=states, csrf_token=_page_csrf(), **page, **extra
    ), status


def _screen_number(text: str | None, count: int) -> int:
    if text is None or not (text.isascii() and text.isdigit() and len(text) < 6) or int(text) >= count:
        fail("bad_submission", 400)
    return int(text)


def _keep_draft(s, ctx: FormContext, draft: InvitationDraft | None, data: MultiDict, token: str) -> InvitationDraft:
    draft = draft or InvitationDraft(draft_key=anonymity.draft_key(ctx.campaign.id, ctx.invitation.id))
    draft.data = json.dumps({name: data.getlist(name) for name in data}, ensure_ascii=False)
    draft.submission_token = token
    draft.saved_at = utcnow()
    s.add(draft)
    s.commit()
    return draft


def _render_screen(page: dict, form, plan, index: int, visible: set[str], states, status: int, **extra):
    screen = plan[index]
    errors = getattr(form, "error_count", 0)
    with_errors = [i for i, sc in enumerate(plan) if any(form[e.name].errors for e in sc.entries)] if errors else []
    return render_template(
        "collect/screen.html", form=form, plan=plan, screen=screen, visible=visible, states=states, errors=errors,
        csrf_token=_page_csrf(),
        with_errors=with_errors, live_conditions=screens.live_conditions, has_grid=screens.grid_of(plan) is not None,
        **page, **extra,
    ), status  # fmt: skip


def _with_device_cookie(result, new_device: str | None = None):
    """A random, long-lived cookie per phone: its keyed hash tells bursts of responses apart, and
    the public forms' CSRF value is bound to it (door.py)."""
    body, status = result
    new_device = new_device or g.get("new_device")
    if new_device is None and request.cookies.get(DEVICE_COOKIE):
        return result
    response = make_response(body, status)
    response.set_cookie(
        DEVICE_COOKIE, new_device or door.device_id()[0], max_age=DEVICE_COOKIE_AGE, httponly=True, samesite="Lax",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )  # fmt: skip
    return response


def _page_csrf():
    """The template's ``csrf_token()`` for a public page: the CSRF value of this phone's device
    cookie (a new one, set by ``_with_device_cookie``, on a first visit). Never the session's."""
    device = request.cookies.get(DEVICE_COOKIE) or g.setdefault("new_device", door.device_id()[0])
    token = door.csrf_for(device)
    return lambda: token


#: the blank form of a collection point is rendered once; each visitor gets it with their own tokens
_BLANK_PAGES: dict[tuple, str] = {}
_BLANK_PAGES_MAX = 1024
CSRF_MARK = "__surveyapp_csrf_token__"
SUBMISSION_MARK = "__surveyapp_submission_id__"
CODE_MARK = "__surveyapp_code__"


def _blank_key(page: dict, content_hash: str) -> tuple:
    """What a blank form page depends on (the general path's context and a remembered poster alike)."""
    ctx = page["ctx"]
    rated = tuple((qid, tuple((u.id, u.name) for u in units)) for qid, units in sorted(page["units"].items()))
    return (page["action"], content_hash, page["questionnaire"].language, ctx.unit.id, ctx.unit.name,
            ctx.campaign.anonymous, ctx.channel, page["drafts"], rated, ctx.campaign.issuer_text,
            ctx.campaign.emblem_hash, page.get("asks_dossier", False))  # fmt: skip


def _blank_page(key: tuple, page: dict, form_class) -> str:
    html = _BLANK_PAGES.get(key)
    if html is None:
        form = form_class(formdata=None)
        form.submission_id.data = SUBMISSION_MARK
        html = render_template("collect/form.html", form=form, errors=0, csrf_token=lambda: CSRF_MARK, **page)
        if len(_BLANK_PAGES) >= _BLANK_PAGES_MAX:
            _BLANK_PAGES.clear()
        _BLANK_PAGES[key] = html
    return html


_THANKS_PAGES: dict[tuple, str] = {}


def _thanks_page(ctx, code: str, submission_id: str, **extra):
    if extra:  # the tablet's, which goes back to a blank form by itself
        return render_template("collect/thanks.html", ctx=ctx, code=code, submission_id=submission_id, **extra), 200
    return _thanks(ctx, code, submission_id)


def _thanks(ctx, code: str, submission_id: str):
    """The thank-you page, rendered once per unit and channel and filled in for each submission."""
    key = (ctx.channel, ctx.unit.name)
    html = _THANKS_PAGES.get(key)
    if html is None:
        html = render_template("collect/thanks.html", ctx=ctx, code=CODE_MARK, submission_id=SUBMISSION_MARK)
        if len(_THANKS_PAGES) >= _BLANK_PAGES_MAX:
            _THANKS_PAGES.clear()
        _THANKS_PAGES[key] = html
    return html.replace(CODE_MARK, code).replace(SUBMISSION_MARK, submission_id), 200


def _draft(s, ctx: FormContext) -> InvitationDraft | None:
    return s.get(InvitationDraft, anonymity.draft_key(ctx.campaign.id, ctx.invitation.id))


def _save_draft(s, ctx: FormContext, page: dict, form_class, token: str):
    if anonymity.has_answered(s, ctx.invitation):
        return notice("already_answered", 409)
    data = MultiDict([(name, v) for name in request.form if name in form_class.names
                      for v in request.form.getlist(name)])  # fmt: skip
    draft = _keep_draft(s, ctx, _draft(s, ctx), data, token)
    form = form_class(formdata=data)
    form.submission_id.data = token
    return _render(page, form, 200, saved_at=draft.saved_at, just_saved=True)


def _render(page: dict, form, status: int, **extra):
    return render_template(
        "collect/form.html", form=form, errors=getattr(form, "error_count", 0), csrf_token=_page_csrf(), **page, **extra
    ), status
