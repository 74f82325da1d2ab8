"""Year over year (issue 19, part 3): the change per unit and criterion with Newcombe's interval
(the MOVER form, checked against statsmodels), a mark where it is beyond chance, and merged units
compared through a crosswalk that pools the old units' answers."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from questionnaires.scoring.compare import Change, Side, compare, mover, pooled
from questionnaires.scoring.stats import wilson_interval
from surveyapp.campaigns.services import campaign_by_key
from surveyapp.demo.fake import fill
from surveyapp.results.services import compute
from surveyapp.results.yearly import read_crosswalk

from .test_browser import browser  # noqa: F401 (the fixture)

KEY = "ninh-giang-2023"


@pytest.mark.parametrize(("x1", "n1", "x0", "n0"), [(54, 60, 45, 60), (5, 30, 12, 25), (60, 60, 40, 61),
                                                    (0, 20, 3, 40), (180, 200, 150, 190)])  # fmt: skip
def test_the_interval_is_newcombes_method_10(x1, n1, x0, n0):
    d, low, high = mover(x1 / n1, *wilson_interval(x1, n1), x0 / n0, *wilson_interval(x0, n0))
    expected = confint_proportions_2indep(x1, n1, x0, n0, method="newcomb", compare="diff")
    assert d == pytest.approx(x1 / n1 - x0 / n0)
    assert (low, high) == pytest.approx((float(expected[0]), float(expected[1])), abs=1e-9)


def test_beyond_chance_only_when_the_interval_leaves_out_zero():
    now = Side(0.9, 0.8, 0.95, 60, 60.0, 1.8)
    assert Change("X", "Xã X", "8.1.3", now, now, 0.1, 0.01, 0.2).beyond_chance
    assert not Change("X", "Xã X", "8.1.3", now, now, 0.1, -0.01, 0.2).beyond_chance
    assert Change("X", "Xã X", "8.1.3", now, now, -0.1, -0.2, -0.01).beyond_chance
    assert not Change("X", "Xã X", "8.1.3", now, None, None, None, None).beyond_chance


def test_pooling_two_old_units_weights_by_effective_answers():
    a = Side(0.9, *wilson_interval(54, 60), 60, 60.0, 1.8, ("A",))
    b = Side(0.5, *wilson_interval(20, 40), 40, 40.0, 1.0, ("B",))
    merged = pooled([a, b], share=True)
    assert merged.value == pytest.approx(74 / 100) and merged.n == 100 and merged.units == ("A", "B")
    assert (merged.low, merged.high) == pytest.approx(wilson_interval(74, 100))
    assert merged.points == pytest.approx((60 * 1.8 + 40 * 1.0) / 100)


@pytest.fixture
def two_years(runner, demo, dbs):
    copied = runner.invoke(args=["campaign", "copy", KEY, "ninh-giang-2024", "--year", "2024",
                                 "--name", "Điều tra XHH 2024"])  # fmt: skip
    assert copied.exit_code == 0, copied.output
    fill(dbs, campaign_by_key(dbs, KEY), share=0.6, seed=1)
    fill(dbs, campaign_by_key(dbs, "ninh-giang-2024"), share=0.6, seed=2)
    dbs.commit()
    return campaign_by_key(dbs, "ninh-giang-2024"), campaign_by_key(dbs, KEY)


def test_two_campaigns_compared_unit_by_unit_and_through_a_merge(two_years, dbs, runner, tmp_path):
    later, earlier = two_years
    now, _ = compute(dbs, later)
    before, _ = compute(dbs, earlier)
    changes = compare(now, before)
    assert len(changes) == sum(len(u.criteria) for u in now.units)
    for c in changes:
        assert c.before is not None and c.before.units == (c.unit,)
        if c.difference is not None:
            assert c.low <= c.difference <= c.high
            assert c.difference == pytest.approx(c.now.value - c.before.value)

    # Xã An Đức (HDG-NGG-02) was formed from itself and Xã Hiệp Lực (HDG-NGG-03); a made-up new
    # unit code has no predecessor
    sheet = tmp_path / "sap-nhap.csv"
    sheet.write_text("Mã đơn vị mới,Mã đơn vị cũ\nHDG-NGG-02,HDG-NGG-02\nHDG-NGG-02,HDG-NGG-03\n"
                     "HDG-NGG-04,HDG-XXX-99\n", encoding="utf-8")  # fmt: skip
    walk = read_crosswalk(sheet.read_bytes(), sheet.name)
    assert walk == {"HDG-NGG-02": ["HDG-NGG-02", "HDG-NGG-03"], "HDG-NGG-04": ["HDG-XXX-99"]}
    merged = {(c.unit, c.criterion): c for c in compare(now, before, walk)}
    code = next(iter(now.unit("HDG-NGG-02").criteria))
    m = merged[("HDG-NGG-02", code)]
    assert m.before.units == ("HDG-NGG-02", "HDG-NGG-03")
    old = [before.unit(u).criteria[code] for u in ("HDG-NGG-02", "HDG-NGG-03")]
    assert m.before.n == sum(s.n for s in old)
    known = [s for s in old if s.value is not None]
    weights = [s.n / max(1.0, s.deff or 1.0) for s in known]
    assert m.before.value == pytest.approx(sum(w * s.value for w, s in zip(weights, known, strict=True)) / sum(weights))
    assert merged[("HDG-NGG-04", code)].before is None

    result = runner.invoke(args=["compare", "ninh-giang-2024", KEY, "--crosswalk", str(sheet)])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.splitlines()]
    assert lines[0][:3] == ["Mã đơn vị", "Đơn vị", "Tiêu chí"]
    row = next(line for line in lines if line[0] == "HDG-NGG-02" and line[2] == code)
    assert row[9] == "HDG-NGG-02, HDG-NGG-03" and row[8] in ("vượt mức ngẫu nhiên", "chưa chắc khác")
    alone = next(line for line in lines if line[0] == "HDG-NGG-04")
    assert alone[8] == "không có đơn vị tương ứng năm trước"
    assert not any(math.isnan(float(x.replace(",", "."))) for line in lines[1:] for x in line[3:8] if x)


def test_a_bad_crosswalk_is_told_with_its_row(tmp_path):
    with pytest.raises(ValueError, match="dòng 3: cần cả mã đơn vị mới và mã đơn vị cũ"):
        read_crosswalk("Mã đơn vị mới,Mã đơn vị cũ\nA,B\nC,\n".encode(), "x.csv")
    with pytest.raises(ValueError, match="mã đơn vị cũ"):
        read_crosswalk("Mã đơn vị mới,Tên\nA,B\n".encode(), "x.csv")


@pytest.mark.browser
def test_the_compare_page_with_a_crosswalk(two_years, client, demo, browser, live_server, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    from .conftest import ARTIFACTS
    from .test_browser import no_axe_violations
    from .test_every_page import _sign_in

    login_page = "/admin/c/ninh-giang-2024/so-sanh"
    from .test_qr_posters import login

    login(client, demo.admin_username, demo.admin_password)
    page = client.get(f"{login_page}?earlier={KEY}").get_data(as_text=True)
    assert (
        "So sánh với đợt khảo sát trước" in page
        and "Xã An Đức" in page
        and "chưa chắc khác" in page
        or "rõ rệt" in page
    )
    sheet = tmp_path / "sap-nhap.csv"
    sheet.write_text("Mã đơn vị mới,Mã đơn vị cũ\nHDG-NGG-02,HDG-NGG-02\nHDG-NGG-02,HDG-NGG-03\n", encoding="utf-8")
    for width in (1366, 360):
        context = browser.new_context(viewport={"width": width, "height": 900})
        tab = _sign_in(context, live_server, demo.admin_username, demo.admin_password)
        tab.goto(f"{live_server}{login_page}")
        tab.set_input_files("input[name=crosswalk]", str(sheet))
        tab.get_by_role("button", name="So sánh").click()
        expect(tab.get_by_text("gộp HDG-NGG-02, HDG-NGG-03").first).to_be_visible()
        tab.screenshot(path=str(ARTIFACTS / f"compare-{width}.png"))
        no_axe_violations(tab)
        assert tab.evaluate("document.documentElement.scrollWidth") <= width
        context.close()
