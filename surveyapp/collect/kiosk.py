"""A counter's shared tablet (issue 22, part 1): ``/k/<code>`` answers for the collection point
``code`` on a tablet an officer paired to it.

Pairing: the officer asks for a six-digit code on the point's kiosk page (valid ``PAIRING_MINUTES``);
the tablet opens ``/k/<code>`` and types it; the tablet then carries a random secret in an HttpOnly
cookie, and the database keeps only its keyed hash. Revoking the kiosk makes that secret worthless.

Between citizens nothing is kept: the page is never cached (``no-store``), the form keeps no draft
on the device (``data-kiosk`` in ``form.js``), a half-answered form is thrown away after
``KIOSK_IDLE_SECONDS`` without a touch (``kiosk.js`` loads a blank one; nothing of it was ever
sent), and the thank-you page returns to a blank form by itself.

Pacing instead of the per-phone limit (a kiosk serves a whole queue): a submission less than
``KIOSK_MIN_SECONDS`` after the kiosk's last is refused with the form kept and a request to wait;
a level rising by one a submission and falling by one every ``KIOSK_PACE_SECONDS`` flags as
``burst`` the submissions that push it past ``KIOSK_BURST``. The kiosk row keeps only that state,
never which responses it sent.
"""

from __future__ import annotations

import functools
import io
import json
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app, make_response, redirect, render_template, request, url_for
from sqlalchemy import select

from .. import csrf, ratelimit
from ..db import session
from ..models import CollectionPoint, CounterAccess, Kiosk, Response
from ..web import fail, notice
from . import bp, door, quality, quick
from .forms import build_form_class
from .routes import (
    OUTCOME_PAGES,
    _address_hash,
    _flags,
    _page_csrf,
    _require_open,
    _with_device_cookie,
    allowed_fields,
    asks_dossier,
    dossier_code,
    quick_thanks,
    tell_more,
)
from .services import (
    FormContext,
    Outcome,
    new_submission_token,
    quota_is_full,
    rated_units,
    read_submission_token,
    resolve_point,
    store_response,
)

COOKIE = "kiosk"
COOKIE_AGE = 365 * 24 * 3600
PAIRING_MINUTES = 10
#: seconds the thank-you page stays before the blank form comes back for the next citizen
THANKS_SECONDS = 10


def clock() -> datetime:
    """Now (the tests move it to play an hour of a queue in a second)."""
    return datetime.now(UTC)


def _hash(kind: str, value: str) -> str:
    return quality.keyed_hash(quality.hash_key(current_app.config["SECRET_KEY"], "kiosks"), kind, value)


# -- for the officer ------------------------------------------------------------------------------
def new_pairing(s, point: CollectionPoint, user_id: int | None) -> tuple[Kiosk, str]:
    """A kiosk waiting for its tablet, and the six-digit code to type on it (shown once)."""
    code = f"{secrets.randbelow(10**6):06d}"
    kiosk = Kiosk(point_id=point.id, pairing_hash=_hash("pairing", f"{point.id}:{code}"),
                  pairing_expires_at=clock() + timedelta(minutes=PAIRING_MINUTES), created_by_id=user_id)  # fmt: skip
    s.add(kiosk)
    return kiosk, code


def kiosks_of(s, point: CollectionPoint) -> list[Kiosk]:
    return list(s.scalars(select(Kiosk).where(Kiosk.point_id == point.id).order_by(Kiosk.created_at.desc())))


def state_of(kiosk: Kiosk, now: datetime | None = None) -> str:
    """What the officer reads about a kiosk (Vietnamese)."""
    now = now or clock()
    if kiosk.revoked_at is not None:
        return "Đã thu hồi"
    if kiosk.token_hash is not None:
        return "Đang dùng"
    expires = kiosk.pairing_expires_at
    if expires is not None and expires.replace(tzinfo=expires.tzinfo or UTC) >= now:
        return "Chờ ghép nối"
    return "Mã ghép nối đã hết hạn"


# -- for the tablet -------------------------------------------------------------------------------
def _pair(s, point: CollectionPoint, code: str) -> str | None:
    """The tablet's new secret when ``code`` is the point's pending pairing code, else None."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    kiosk = s.scalar(
        select(Kiosk).where(Kiosk.point_id == point.id, Kiosk.pairing_hash == _hash("pairing", f"{point.id}:{code}"),
                            Kiosk.revoked_at.is_(None), Kiosk.pairing_expires_at >= clock())
        .with_for_update()
    )  # fmt: skip
    if kiosk is None:
        return None
    secret = secrets.token_urlsafe(32)
    kiosk.token_hash, kiosk.pairing_hash, kiosk.pairing_expires_at = _hash("tablet", secret), None, None
    kiosk.paired_at = clock()
    return secret


def _kiosk(s, point: CollectionPoint, lock: bool = False) -> Kiosk | None:
    """This tablet's kiosk for ``point`` (revoked or not), from its cookie."""
    secret = request.cookies.get(COOKIE, "")
    if not secret or len(secret) > 100:
        return None
    stmt = select(Kiosk).where(Kiosk.point_id == point.id, Kiosk.token_hash == _hash("tablet", secret))
    return s.scalar(stmt.with_for_update() if lock else stmt)


def pace(kiosk: Kiosk, now: datetime, min_seconds: float, pace_seconds: float, burst: float) -> bool | None:
    """None when ``now`` is less than ``min_seconds`` after the kiosk's last accepted submission;
    else the kiosk's pacing moved on by one submission, and whether it is a burst."""
    last = kiosk.last_submitted_at
    if last is not None:
        last = last if last.tzinfo else last.replace(tzinfo=UTC)
        if (now - last).total_seconds() < min_seconds:
            return None
    rested = (now - last).total_seconds() / pace_seconds if last is not None else 0.0
    level = max(0.0, (kiosk.pace_level or 0.0) - rested) + 1.0
    kiosk.pace_level, kiosk.last_submitted_at = level, now
    return level > burst


def _limited():
    """The public forms' CSRF check, and the per-address limit (the per-phone one would stop a queue)."""
    if request.method != "POST":
        return
    if not door.csrf_ok():
        fail("csrf", 400)
    config = current_app.config
    address = quality.keyed_hash(quality.hash_key(config["SECRET_KEY"], "rate limits"), "address",
                                 request.remote_addr or "")  # fmt: skip
    if not ratelimit.allow_all(("address", address, config["RATELIMIT_PER_ADDRESS"])):
        fail("rate_limited", 429)


def _context(s, code: str) -> FormContext:
    ctx = resolve_point(s, code)
    if ctx is None:
        fail("point_unknown", 404)
    if not ctx.point.active:
        fail("point_inactive", 410)
    return ctx


def _page(body, status: int | None = None, secret: str | None = None):
    """Never kept by the browser: the next citizen cannot go back to the last one's answers."""
    response = make_response(body) if status is None else make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    if secret is not None:
        response.set_cookie(COOKIE, secret, max_age=COOKIE_AGE, path="/k/", httponly=True, samesite="Lax",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))  # fmt: skip
    return response


@bp.route("/k/<code>/pair", methods=["POST"])
def kiosk_pair(code: str):
    _limited()
    s = session()
    ctx = _context(s, code)
    secret = _pair(s, ctx.point, request.form.get("pairing", ""))
    if secret is None:
        s.rollback()
        html = render_template("collect/kiosk_pair.html", ctx=ctx, code=code, wrong=True, csrf_token=_page_csrf())
        return _with_device_cookie((_page(html, 422), 422))
    s.commit()
    return _page(redirect(url_for("collect.kiosk", code=code), 303), secret=secret)


@bp.route("/k/<code>", methods=["GET", "POST"])
def kiosk(code: str):
    _limited()
    s = session()
    ctx = _context(s, code)
    tablet = _kiosk(s, ctx.point)
    if tablet is None:
        if request.method == "POST":
            fail("kiosk_unpaired", 403)
        html = render_template("collect/kiosk_pair.html", ctx=ctx, code=code, wrong=False, csrf_token=_page_csrf())
        return _with_device_cookie((_page(html), 200))
    if tablet.revoked_at is not None:
        if request.method == "POST":
            fail("kiosk_revoked", 403)
        # the citizen is told; the officer can pair this tablet again with a new code
        html = render_template("collect/kiosk_pair.html", ctx=ctx, code=code, wrong=False, revoked=True,
                               csrf_token=_page_csrf())  # fmt: skip
        return _with_device_cookie((_page(html, 403), 403))
    _require_open(ctx)
    if ctx.group.counter_access == CounterAccess.SLIPS:
        fail("poster_disabled", 403)
    questionnaire = ctx.questionnaire
    units = rated_units(s, ctx.group, ctx.campaign, questionnaire)
    form_class = build_form_class(questionnaire, units)
    config = current_app.config
    page = {"ctx": ctx, "questionnaire": questionnaire, "units": units, "action": url_for("collect.kiosk", code=code),
            "draft_key": f"k-{code}", "drafts": False, "kiosk": True, "idle": config["KIOSK_IDLE_SECONDS"],
            "asks_dossier": asks_dossier(ctx)}  # fmt: skip
    thanks = {"kiosk": True, "home": page["action"], "seconds": THANKS_SECONDS}
    rating = quick.asks_quick(ctx, questionnaire)  # the one-tap rating first (quick.py)
    if rating and request.method == "POST" and quick.FIELD in request.form:
        return _page(*tell_more(s, page, form_class, **thanks))
    if rating and (request.method == "GET" or request.form.get("intent") == "quick"):
        form_class, page["rating"] = quick.form_class_of(questionnaire), True
    if request.method == "GET":
        if quota_is_full(s, ctx.campaign, ctx.group.id, ctx.unit.id):
            return _page(*notice("quota_full", 200))
        form = form_class(formdata=None)
        form.submission_id.data = new_submission_token(config["SECRET_KEY"])
        return _with_device_cookie((_page(_render(page, form)), 200))

    if set(request.form) - (form_class.names | allowed_fields(page)):
        fail("unknown_fields", 400)
    parsed = read_submission_token(config["SECRET_KEY"], request.form.get("submission_id", ""))
    if parsed is None:
        fail("bad_submission", 400)
    submission_id, shown_at = parsed
    form = form_class()
    valid = form.validate()
    dossier, problem = dossier_code(page)
    if not valid or problem:
        return _page(_render(page, form, dossier_error=problem), 422)
    tablet = _kiosk(s, ctx.point, lock=True)  # one submission of this tablet at a time
    now = clock()
    replay = s.scalar(select(Response.id).where(Response.submission_id == submission_id)) is not None
    burst = False
    if not replay:  # a second tap on "Gửi phiếu" is thanked again, not asked to wait
        burst = pace(tablet, now, config["KIOSK_MIN_SECONDS"], config["KIOSK_PACE_SECONDS"], config["KIOSK_BURST"])
        if burst is None:
            s.rollback()
            return _page(_render(page, form, wait=round(config["KIOSK_MIN_SECONDS"])), 429)
    rows = form.answer_rows(ctx.unit.id)
    flags = _flags(ctx, questionnaire, len(form.visible_names), rows, shown_at, now, recent_from_device=0)
    if burst:
        flags.insert(len([f for f in flags if f in ("too_fast", "straight_lining")]), "burst")
    device = quality.keyed_hash(quality.campaign_key(config["SECRET_KEY"], ctx.campaign.id), "kiosk", str(tablet.id))
    outcome = store_response(s, ctx, submission_id, shown_at, rows, flags=flags, device_hash=device,
                             address_hash=_address_hash(ctx.campaign.id), dossier=dossier)  # fmt: skip
    if outcome is Outcome.STORED:
        s.commit()
    else:
        s.rollback()
    if outcome in (Outcome.STORED, Outcome.REPLAYED):
        if page.get("rating"):
            return _page(*quick_thanks(page, submission_id, **thanks))
        html = render_template("collect/thanks.html", ctx=ctx, code=f"k-{code}", submission_id=submission_id,
                               **thanks)  # fmt: skip
        return _page(html)
    return _page(*notice(*OUTCOME_PAGES[outcome]))


@bp.route("/k/<code>/manifest.webmanifest")
def kiosk_manifest(code: str):
    """Installed from Chrome's "Add to home screen", the tablet opens the point's kiosk full
    screen, without the address bar (a web app manifest)."""
    ctx = _context(session(), code)
    home = url_for("collect.kiosk", code=code)
    body = {
        "name": f"Lấy ý kiến người dân · {ctx.unit.name}",
        "short_name": "Lấy ý kiến",
        "lang": "vi",
        "start_url": home,
        "scope": home,
        "display": "fullscreen",
        "background_color": "#eef2f5",
        "theme_color": "#9b1c1c",
        "icons": [{"src": url_for("collect.kiosk_icon", size=size), "sizes": f"{size}x{size}", "type": "image/png"}
                  for size in ICON_SIZES],
    }  # fmt: skip
    response = make_response(json.dumps(body, ensure_ascii=False))
    response.headers["Content-Type"] = "application/manifest+json; charset=utf-8"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


ICON_SIZES = (192, 512)


@functools.lru_cache(maxsize=len(ICON_SIZES))
def _icon_png(size: int) -> bytes:
    """The home-screen icon: a white speech mark on the forms' red (drawn, no file to keep)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), "#9b1c1c")
    draw = ImageDraw.Draw(image)
    u = size / 16
    draw.rounded_rectangle((3 * u, 3.5 * u, 13 * u, 10.5 * u), radius=2 * u, fill="white")
    draw.polygon([(5.5 * u, 10 * u), (5.5 * u, 13 * u), (8.5 * u, 10 * u)], fill="white")
    for k in range(3):  # three dots: someone is answering
        x = (5.5 + 2.5 * k) * u
        draw.ellipse((x - 0.8 * u, 6.2 * u, x + 0.8 * u, 7.8 * u), fill="#9b1c1c")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


@bp.route("/k/icon-<int:size>.png")
def kiosk_icon(size: int):
    if size not in ICON_SIZES:
        fail("not_found", 404)
    response = make_response(_icon_png(size))
    response.headers["Content-Type"] = "image/png"
    response.headers["Cache-Control"] = "public, max-age=31536000"
    return response


def _render(page: dict, form, **extra) -> str:
    if page.get("rating"):
        return quick.render(page, form, _page_csrf(), **extra)[0]
    return render_template("collect/form.html", form=form, errors=getattr(form, "error_count", 0),
                           csrf_token=_page_csrf(), **page, **extra)  # fmt: skip


for _view in (kiosk, kiosk_pair):
    csrf.exempt(_view)
