"""The questionnaire loader: the shipped files are valid; every malformed case is reported with
its file, line and question."""

from __future__ import annotations

import textwrap

import pytest

from questionnaires import DefinitionError, QuestionType, UnitsScope, builtin_files, load_questionnaire, load_text


def test_builtin_questionnaires_load():
    codes = {load_questionnaire(path).code for path in builtin_files()}
    assert codes == {"citizen_counter", "council_delegate", "leader", "civil_servant"}


def test_citizen_questionnaire_covers_the_five_aspects_and_the_usual_questions():
    q = load_questionnaire(next(p for p in builtin_files() if p.stem == "citizen_counter"))
    aspects = {item.aspect for item in q.scale_items()}
    assert {"access", "procedure", "civil_servant", "result", "feedback"} <= aspects
    for qid in ("procedure_field", "submit_channel", "visits", "unofficial_payment", "suggestion"):
        assert q.has_question(qid)
    assert q.question("visits").type is QuestionType.NUMBER
    assert q.question("suggestion").required is False
    assert q.question("apology_letter").show_if.question == "on_time"
    assert all(item.criterion == "8.1.3" for item in q.scale_items())
    assert q.question("access_seating").scale.labels[0] == "Rất không hài lòng"


def test_leader_questionnaire_rates_units():
    q = load_questionnaire(next(p for p in builtin_files() if p.stem == "leader"))
    rating = q.question("unit_rating")
    assert rating.type is QuestionType.RATE_UNITS and rating.units is UnitsScope.ASSIGNED
    assert len(rating.items) == 6 and q.rates_units


def test_content_hash_ignores_comments_but_not_wording():
    base = MINIMAL
    with_comment = "# chú thích\n" + base
    reworded = base.replace("Câu một", "Câu một (sửa)")
    assert load_text(base).content_hash == load_text(with_comment).content_hash
    assert load_text(base).content_hash != load_text(reworded).content_hash


MINIMAL = textwrap.dedent(
    """\
    id: mini
    version: 1
    title: Phiếu thử
    aspects:
      a: Khía cạnh A
    sections:
      - id: s1
        title: Phần một
        questions:
          - id: q1
            type: single
            label: Câu một
            options:
              - {code: x, label: "Ích"}
              - {code: y, label: "Y"}
          - id: q2
            type: scale
            aspect: a
            label: Câu hai
    """
)


def test_minimal_loads_with_every_type():
    text = MINIMAL + textwrap.indent(
        textwrap.dedent(
            """\
            - id: s2
              title: Phần hai
              questions:
                - {id: q3, type: multiple, label: Ba, options: [{code: a, label: A}, {code: b, label: B}]}
                - {id: q4, type: yesno, label: Bốn}
                - {id: q5, type: number, label: Năm, min: 0, max: 10}
                - {id: q6, type: text, label: Sáu}
                - {id: q7, type: longtext, label: Bảy, show_if: {question: q4, answers: ["yes"]}}
                - id: q8
                  type: rate_units
                  units: scope
                  label: Tám
                  items:
                    - {id: q8a, type: scale, aspect: a, label: Tám a}
                    - {id: q8b, type: text, label: Tám b, show_if: {question: q8a, answers: [1, 2]}}
            """
        ),
        "  ",
    )
    q = load_text(text, "mini.yaml")
    types = {x.id: x.type for x in q.top_questions()}
    assert set(types.values()) == set(QuestionType)
    assert q.question("q8b").show_if.answers == frozenset({"1", "2"})
    assert q.question("q6").required is False and q.question("q5").required is True


def _problems(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load_text(text, "thu.yaml")
    return [str(p) for p in info.value.problems]


def _replace(old: str, new: str) -> str:
    assert old in MINIMAL
    return MINIMAL.replace(old, new)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            _replace("id: q2", "id: q1"),
            ["thu.yaml, dòng 16, câu “q1”: mã câu hỏi “q1” bị trùng (đã dùng ở dòng 10)"],
            id="duplicate-id",
        ),
        pytest.param(
            _replace("type: scale", "type: slider"),
            ["dòng 16, câu “q2”: loại câu hỏi “slider” không tồn tại"],
            id="unknown-type",
        ),
        pytest.param(
            _replace("type: scale", "type: scale\n        scale: stars"),
            ["câu “q2”: thang đo “stars” chưa được khai báo"],
            id="unknown-scale",
        ),
        pytest.param(
            _replace("sections:", "scales:\n  tiny: [Chỉ một mức]\nsections:"),
            ["thang đo “tiny” phải có từ 2 đến 11 mức"],
            id="scale-one-level",
        ),
        pytest.param(
            _replace("sections:", "scales:\n  dup: [Tốt, Tốt, Kém]\nsections:"),
            ["thang đo “dup” phải có từ 2 đến 11 mức, mỗi mức có nhãn khác nhau"],
            id="scale-duplicate-labels",
        ),
        pytest.param(
            _replace("        aspect: a\n", ""),
            ["câu “q2”: câu hỏi thang đo phải ghi khía cạnh đánh giá"],
            id="scale-no-aspect",
        ),
        pytest.param(
            _replace("aspect: a\n        label", "aspect: zz\n        label"),
            ["khía cạnh “zz” chưa được khai báo"],
            id="unknown-aspect",
        ),
        pytest.param(
            _replace("label: Câu hai", "label: Câu hai\n        show_if: {question: q9, answers: [x]}"),
            ["dòng 16, câu “q2”: điều kiện hiển thị trỏ tới câu hỏi “q9” không có trong phiếu"],
            id="skip-missing-question",
        ),
        pytest.param(
            _replace("label: Câu hai", "label: Câu hai\n        show_if: {question: q1, answers: [z]}"),
            ["câu “q2”: điều kiện hiển thị dùng đáp án “z” không có trong câu “q1”"],
            id="skip-missing-option",
        ),
        pytest.param(
            _replace("label: Câu một", "label: Câu một\n        show_if: {question: q2, answers: [1]}"),
            ["câu “q1”: điều kiện hiển thị phải trỏ tới một câu hỏi đứng trước, câu “q2” nằm sau câu này"],
            id="skip-forward-reference",
        ),
        pytest.param(
            _replace("label: Câu hai", "label: Câu hai\n        show_if: q1"),
            ["câu “q2”: điều kiện hiển thị (show_if) phải có dạng"],
            id="skip-bad-shape",
        ),
        pytest.param(
            _replace("label: Câu hai", "label: ''"), ["dòng 16, câu “q2”: thiếu nội dung “label”"], id="missing-label"
        ),
        pytest.param(_replace("label: Câu hai", "help: x"), ["câu “q2”: thiếu nội dung “label”"], id="no-label-key"),
        pytest.param(
            _replace('label: "Y"', "label: ''"),
            ["dòng 15, câu “q1”: thiếu nội dung “label”"],
            id="missing-option-label",
        ),
        pytest.param(
            _replace("title: Phiếu thử\n", ""), ["thu.yaml, dòng 1: thiếu nội dung “title”"], id="missing-title"
        ),
        pytest.param(_replace("{code: y", "{code: x"), ["câu “q1”: mã phương án “x” bị trùng"], id="duplicate-option"),
        pytest.param(
            _replace('          - {code: y, label: "Y"}\n', ""),
            ["câu “q1”: câu hỏi lựa chọn phải có ít nhất 2 phương án"],
            id="one-option",
        ),
        pytest.param(_replace("id: q2", "id: Q-2"), ["mã “Q-2” không hợp lệ"], id="bad-id"),
        pytest.param(_replace("version: 1", "version: 0"), ["phiên bản phải là số nguyên dương"], id="bad-version"),
        pytest.param(_replace("version: 1\n", ""), ["thiếu mục bắt buộc “version”"], id="missing-version"),
        pytest.param(
            _replace("type: single", "type: single\n        colour: red"),
            ["mục “colour” không được hỗ trợ"],
            id="unknown-key",
        ),
        pytest.param(
            _replace("type: scale", "type: number\n        min: 5\n        max: 1"),
            ["câu “q2”: giới hạn số không hợp lệ"],
            id="number-bad-bounds",
        ),
        pytest.param(
            _replace("type: scale\n        aspect: a", "type: rate_units"),
            ["câu “q2”: câu “đánh giá từng đơn vị” phải có danh sách câu hỏi con"],
            id="rate-units-no-items",
        ),
        pytest.param(
            _replace(
                "type: scale\n        aspect: a",
                "type: rate_units\n        units: province\n        items:\n"
                "          - {id: i1, type: yesno, label: X}",
            ),
            ["phạm vi đơn vị “province” không hợp lệ"],
            id="rate-units-bad-scope",
        ),
        pytest.param(
            _replace("type: scale", "type: scale\n        criterion: tám"),
            ["mã tiêu chí “tám” không hợp lệ"],
            id="bad-criterion",
        ),
        pytest.param("id: [unclosed\n", ["thu.yaml, dòng 2: lỗi cú pháp YAML"], id="yaml-syntax"),
        pytest.param("- just\n- a list\n", ["thu.yaml: nội dung tệp phải là một bảng khoá"], id="not-a-mapping"),
        pytest.param(
            _replace("sections:\n", "sections: []\nx:\n"), ["phiếu phải có ít nhất một phần"], id="no-sections"
        ),
    ],
)
def test_malformed_definitions_are_reported_with_file_line_and_question(text, expected):
    problems = _problems(text)
    for fragment in expected:
        assert any(fragment in p for p in problems), (fragment, problems)


def test_every_problem_is_reported_at_once():
    text = _replace("type: scale", "type: slider").replace("label: Câu một", "label: ''")
    problems = _problems(text)
    assert len(problems) >= 2


def test_not_utf8_file(tmp_path):
    path = tmp_path / "cu.yaml"
    path.write_bytes(MINIMAL.encode("utf-8").replace("Câu một".encode(), b"C\xe2u m\xf4t"))
    with pytest.raises(DefinitionError, match="cu.yaml: tệp không phải văn bản UTF-8"):
        load_questionnaire(path)
