"""Reading HR's CSV: refused files, bad rows reported with their line, duplicates inside one file."""

from __future__ import annotations

import pytest

from workforce.service.importing import COLUMNS, CsvFileError, check, parse

HEADER = ",".join(COLUMNS)


def csv(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


def refused(raw: bytes, status: int, rule: str, max_rows: int = 100) -> CsvFileError:
    with pytest.raises(CsvFileError) as caught:
        parse(raw, max_rows=max_rows)
    assert (caught.value.status, caught.value.rule) == (status, rule), caught.value.message
    return caught.value


def test_rows_with_their_line_numbers() -> None:
    raw = csv(
        "E-1,B-1,Ana Lima,transferred,active,2025-06-01",
        "",
        '"E-2","B-2","Lima, Ana ""Jr""",recalled,idle,2025-06-01',
        'E-3,B-3,"Two\nLines",new_hire,active,2026-01-05',
        "E-4,B-4,Bo,new_hire,active,2026-01-05",
    )
    records = parse(raw, max_rows=100)
    assert [r.line for r in records] == [2, 4, 5, 7]
    assert records[1].values == {
        "employee_id": "E-2",
        "badge_id": "B-2",
        "name": 'Lima, Ana "Jr"',
        "origin": "recalled",
        "status": "idle",
        "status_since": "2025-06-01",
    }


def test_header_in_any_order_any_case_with_a_bom_and_semicolons() -> None:
    raw = "\ufeffName;Employee_ID;badge_id;origin;status;status_since\r\nAna;E-1;B-1;transferred;active;2025-06-01\r\n"
    [record] = parse(raw.encode(), max_rows=10)
    assert record.values is not None and record.values["employee_id"] == "E-1" and record.values["name"] == "Ana"


def test_a_row_with_the_wrong_number_of_fields_is_a_bad_row_not_a_bad_file() -> None:
    records = parse(csv("E-1,B-1,Ana,transferred,active", "E-2,B-2,Bo,new_hire,active,2026-01-05"), max_rows=10)
    assert records[0].values is None and records[0].problem == "has 5 fields, the header has 6"
    assert records[1].values is not None


@pytest.mark.parametrize(
    ("raw", "status", "rule"),
    [
        (b"", 422, "import.csv.empty"),
        (b"\n\n  \n", 422, "import.csv.empty"),
        (b"employee_id,badge_id,name\nE-1,B-1,Ana\n", 422, "import.csv.header"),
        (csv(header=HEADER + ",shoe_size"), 422, "import.csv.header"),
        (csv(header=HEADER + ",name"), 422, "import.csv.header"),
        (b"E-1,B-1,Ana,transferred,active,2025-06-01\n", 422, "import.csv.header"),
        (
            csv("E-1,B-1,Jos\xe9,transferred,active,2025-06-01").replace(b"Jos\xc3\xa9", b"Jos\xe9"),
            400,
            "import.csv.encoding",
        ),
        (csv('E-1,B-1,"Ana"x,transferred,active,2025-06-01'), 400, "import.csv.malformed"),
        (csv('E-1,B-1,"Ana,transferred,active,2025-06-01'), 400, "import.csv.malformed"),
        (csv("E-1,B-1,A\x00na,transferred,active,2025-06-01"), 400, "import.csv.malformed"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", 400, "import.csv.encoding"),
    ],
)
def test_unusable_files_are_refused_whole(raw: bytes, status: int, rule: str) -> None:
    refused(raw, status, rule)


def test_too_many_rows() -> None:
    rows = [f"E-{n},B-{n},N{n},new_hire,active,2026-01-05" for n in range(4)]
    assert len(parse(csv(*rows), max_rows=4)) == 4
    refused(csv(*rows), 413, "import.csv.too-many-rows", max_rows=3)


def test_each_row_is_checked_on_its_own() -> None:
    checked = check(
        parse(
            csv(
                "E-1,B-1,Ana,transferred,active,2025-06-01",
                "E-2,B-2,Bo,retired,active,2025-06-01",
                "E-3,B-3,Cy,new_hire,active,01/06/2025",
                "E-4,B-4,Di,new_hire,active,2025-02-30",
                "E 5,B-5,,new_hire,sleeping,2025-06-01",
                "E-1,B-6,Ana again,transferred,active,2025-06-01",
                "E-7,B-1,Badge twin,transferred,active,2025-06-01",
                "E-8,B-8,Eve,new_hire,on_leave,2025-06-01",
            ),
            max_rows=100,
        )
    )
    assert [(c.line, c.employee_id, c.row is not None) for c in checked] == [
        (2, "E-1", True),
        (3, "E-2", False),
        (4, "E-3", False),
        (5, "E-4", False),
        (6, "E 5", False),
        (7, "E-1", False),
        (8, "E-7", False),
        (9, "E-8", True),
    ]
    problems = {c.line: c.problem for c in checked}
    assert "origin" in problems[3] and "retired" not in problems[3].split(":")[0]
    assert problems[4] == "status_since: '01/06/2025' is not a date YYYY-MM-DD"
    assert problems[5] is not None and problems[5].startswith("status_since:")
    assert all(field in problems[6] for field in ("employee_id", "name", "status"))
    assert problems[7] == "employee_id E-1 is already on line 2"
    assert problems[8] == "badge_id B-1 is already on line 2"
