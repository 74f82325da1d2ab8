from __future__ import annotations

from flask import Response as HttpResponse
from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from .. import qr
from ..auth import current_user, staff_required
from ..db import session
from ..lookups import campaign_or_404
from ..models import Campaign, CampaignStatus, CollectionPoint, Kiosk, Role
from . import bp
from .services import form_url, kiosk_url, point_links, progress

QR_CACHE = "public, max-age=86400"


def _campaign(key: str) -> Campaign:
    return campaign_or_404(session(), key)


@bp.route("/")
def home():
    """The public landing page: what the survey is and how a citizen reaches their commune's form."""
    campaigns = (
        session()
        .scalars(
            select(Campaign).where(Campaign.status == CampaignStatus.OPEN).order_by(Campaign.year.desc(), Campaign.name)
        )
        .all()
    )
    return render_template("campaigns/home.html", campaigns=campaigns)


@bp.route("/admin/")
@staff_required(Role.SCORER, Role.UNIT_OFFICER, Role.CLERK)
def index():
    campaigns = session().scalars(select(Campaign).order_by(Campaign.year.desc(), Campaign.key)).all()
    user = current_user()
    own_points: dict[int, list[CollectionPoint]] = {}
    if user.role == Role.UNIT_OFFICER:
        for point in session().scalars(select(CollectionPoint).where(CollectionPoint.unit_id == user.unit_id)):
            own_points.setdefault(point.group.campaign_id, []).append(point)
    return render_template("campaigns/index.html", campaigns=campaigns, user=user, own_points=own_points)


@bp.route("/admin/c/<key>/")
@staff_required(Role.SCORER)
def campaign(key: str):
    c = _campaign(key)
    rows = progress(session(), c)
    totals: dict[str, list[int]] = {}
    for row in rows:
        t = totals.setdefault(row.group_name, [0, 0])
        t[0] += row.target
        t[1] += row.received
    return render_template(
        "campaigns/campaign.html",
        campaign=c,
        rows=rows,
        totals=totals,
        links=point_links(session(), c),
        form_url=form_url,
        user=current_user(),
    )


@bp.route("/admin/c/<key>/posters")
@staff_required()
def posters(key: str):
    c = _campaign(key)
    return render_template("campaigns/posters.html", campaign=c, links=point_links(session(), c), form_url=form_url)


@bp.route("/admin/p/<code>/poster")
@staff_required(Role.UNIT_OFFICER)
def poster(code: str):
    point = _own_point(code)
    c = point.group.campaign
    links = [link for link in point_links(session(), c) if link.code == code]
    return render_template("campaigns/posters.html", campaign=c, links=links, form_url=form_url)


def _own_point(code: str) -> CollectionPoint:
    """The point ``code``, for an administrator or the officer of its unit (403 for another's)."""
    point = session().scalar(select(CollectionPoint).where(CollectionPoint.code == code))
    if point is None:
        abort(404)
    user = current_user()
    if user.role == Role.UNIT_OFFICER and point.unit_id != user.unit_id:
        abort(403)
    return point


@bp.route("/admin/p/<code>/kiosk", methods=["GET", "POST"])
@staff_required(Role.UNIT_OFFICER)
def kiosks(code: str):
    """The counter's shared tablets: a one-time code to pair a new one, the paired ones, revoking."""
    from ..audit import record
    from ..collect import kiosk as kiosk_mode

    s = session()
    point = _own_point(code)
    shown = None
    if request.method == "POST":
        if request.form.get("intent") == "revoke":
            found = s.get(Kiosk, request.form.get("kiosk", type=int) or 0)
            if found is None or found.point_id != point.id:
                abort(404)
            if found.revoked_at is None:
                found.revoked_at = kiosk_mode.clock()
                record(s, "kiosk.revoked", f"kiosk:{found.id}", point=point.code)
                s.commit()
            flash("Đã thu hồi máy tính bảng: máy đó không gửi được phiếu nữa.", "ok")
            return redirect(url_for("campaigns.kiosks", code=code), 303)
        made, shown = kiosk_mode.new_pairing(s, point, current_user().id)
        s.flush()
        record(s, "kiosk.pairing", f"kiosk:{made.id}", point=point.code)
        s.commit()
    return render_template(
        "campaigns/kiosks.html", point=point, campaign=point.group.campaign, kiosks=kiosk_mode.kiosks_of(s, point),
        pairing=shown, minutes=kiosk_mode.PAIRING_MINUTES, state_of=kiosk_mode.state_of,
        kiosk_url=kiosk_url(code),
    )  # fmt: skip


def _point_url(code: str) -> str:
    if session().scalar(select(CollectionPoint.id).where(CollectionPoint.code == code)) is None:
        abort(404)
    return form_url(code)


@bp.route("/qr/<code>.png")
def qr_png(code: str):
    return HttpResponse(qr.png(_point_url(code)), mimetype="image/png", headers={"Cache-Control": QR_CACHE})


@bp.route("/qr/<code>.svg")
def qr_svg(code: str):
    return HttpResponse(qr.svg(_point_url(code)), mimetype="image/svg+xml", headers={"Cache-Control": QR_CACHE})


@bp.route("/healthz")
def health():
    """For the reverse proxy and monitoring: 200 when the database answers, else 503."""
    from flask import jsonify
    from sqlalchemy import text

    try:
        session().execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        return jsonify({"status": "error", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok"})
