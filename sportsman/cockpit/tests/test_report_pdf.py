"""The report as a PDF: a real A4 PDF laid out by WeasyPrint, its Chinese text set in the CJK font
and extractable, a running header and "page n of m" footer on every page, and a long subunit
table that breaks across pages with its header repeated.

Text is read two ways: from WeasyPrint's laid-out pages (the boxes it drew), and from the PDF
itself — the ToUnicode maps of its embedded fonts say which characters the pages show."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from sportsman.cockpit import report, tallies
from sportsman.cockpit.models import Tally
from sportsman.cockpit.tests.report_fixtures import (  # noqa: F401 (fixtures)
    private_media_fixture,
    seeded_fixture,
)
from sportsman.regions.models import Region

pytestmark = pytest.mark.django_db

A4 = (210, 297)  # mm
PX_PER_MM = 96 / 25.4


def page_texts(document) -> list[str]:
    """The text of each laid-out page, margin boxes (header, footer) included."""
    def walk(box, out):
        text = getattr(box, "text", None)
        if text:
            out.append(text)
        for child in getattr(box, "children", ()):
            walk(child, out)
        return out
    return [" ".join(walk(page._page_box, [])) for page in document.pages]


def pdf_characters(pdf: bytes) -> set[str]:
    """The characters the embedded fonts map to (``bfchar`` entries of ToUnicode CMaps) in an
    uncompressed PDF."""
    out = set()
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", pdf, re.S):
        for hex_text in re.findall(rb"<[0-9a-fA-F]+>\s*<([0-9a-fA-F]+)>", block):
            out.add(bytes.fromhex(hex_text.decode()).decode("utf-16-be", errors="ignore"))
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", pdf, re.S):
        for lo, hi, first in re.findall(
                rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            start = int(first, 16)
            out.update(chr(start + i) for i in range(int(hi, 16) - int(lo, 16) + 1))
    return out


def test_the_report_is_an_a4_pdf_with_its_chinese_text(seeded):
    with translation.override("zh-hans"):
        content = report.build(seeded.city, seeded.period)
        document = report.render_document(content)
        pdf = document.write_pdf(uncompressed_pdf=True)

    assert pdf.startswith(b"%PDF-")
    assert len(document.pages) >= 3
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == len(document.pages)
    for page in document.pages:
        assert (round(page.width / PX_PER_MM), round(page.height / PX_PER_MM)) == A4
    # The Chinese glyphs come from the CJK font and map back to their characters.
    assert re.search(rb"/BaseFont\s*/\w+\+Noto-?Sans-?CJK", pdf)
    assert set("嘉兴市南湖区秀洲区年月日") <= pdf_characters(pdf)
    text = " ".join(page_texts(document))
    assert "嘉兴市" in text and "南湖区" in text
    assert f"{seeded.period.start.year}年{seeded.period.start.month}月" in text  # dates


def test_every_page_has_the_region_and_month_on_top_and_its_number_below(seeded):
    with translation.override("en"):
        content = report.build(seeded.t1, seeded.period)
        document = report.render_document(content)
        title, label = str(content.title), content.period.label()
    texts = page_texts(document)
    count = len(texts)
    for number, text in enumerate(texts, 1):
        assert title in text
        assert f"Page {number} of {count}" in text
    assert "新嘉街道" in title and label in title


def test_render_pdf_gives_the_file_and_its_page_count(seeded):
    progress = []
    pdf, pages = report.render_pdf(report.build(seeded.t1, seeded.period),
                                   progress=progress.append)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert pages >= 3 and progress == [80]


def test_a_long_subunit_table_breaks_across_pages_with_its_header(seeded):
    t1 = seeded.t1
    rows = []
    for i in range(70):
        community = Region.objects.create(code=f"330402009{200 + i:03d}", edition=2023,
                                          name=f"第{i + 1}社区", level="community", parent=t1,
                                          path="")
        community.path = f"{t1.path}{community.pk}/"
        community.save(update_fields=["path"])
        rows.append(Tally(region=community, day=seeded.period.start, metric="exercise_minutes",
                          value=1000 - i))
    Tally.objects.bulk_create(rows)
    tallies.roll_up_months()
    with translation.override("en"):
        document = report.render_document(report.build(t1, seeded.period))
    row = re.compile(r"(\d+) 第(\d+)社区 ")  # a rank, then the community
    with_rows = [t for t in page_texts(document) if row.search(t)]
    assert len(with_rows) >= 2  # the table spans pages ...
    assert all("Rank" in t for t in with_rows)  # ... and its header is on each of them
    ranked = [(int(rank), int(n)) for t in with_rows for rank, n in row.findall(t)]
    assert ranked == [(i, i) for i in range(1, 71)]  # every row once, none split or lost


def test_the_pdf_loads_nothing_from_outside(seeded, monkeypatch):
    content = report.build(seeded.k1, seeded.period)
    html = report.render_html(content, pdf=True)
    assert "<link" not in html and "<script" not in html and "<img" not in html
    with pytest.raises(ValueError, match="loads no resources"):
        report._no_fetching("http://example.com/x.png")


def test_a_region_name_cannot_break_out_of_the_page_header(seeded):
    seeded.k1.name = '花园"}</style><img src="http://example.com/x.png">\\社区'
    seeded.k1.save(update_fields=["name"])
    content = report.build(seeded.k1, seeded.period)
    css = str(report._page_css(content))
    assert "<" not in css and ">" not in css
    with translation.override("en"):
        document = report.render_document(report.build(seeded.k1, seeded.period))
    assert seeded.k1.name in page_texts(document)[0]  # shown as it is, in the header
