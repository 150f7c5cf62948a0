"""The decision document of the one window (受理结果/决定书) as PDF: the association, the kind,
the decision (with an annual report's result), the receipt number and the date, laid out on A4
by WeasyPrint in the site's CJK font (Noto Sans CJK), as ``events.certificates`` does.
Self-contained: WeasyPrint fetches nothing."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy

from sportsman.associations.models import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    InspectionResult,
)
from sportsman.core.errors import Conflict

STYLE = """
@page { size: A4; margin: 22mm; }
body { font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif; color: #1b2a3a; }
h1 { font-size: 24pt; text-align: center; letter-spacing: 4pt; margin: 0 0 12mm; }
table { width: 100%; border-collapse: collapse; font-size: 13pt; }
th, td { border: 0.4mm solid #7a8a9a; padding: 3mm 4mm; text-align: left; }
th { width: 32%; background: #eef2f6; }
.decision { font-size: 18pt; font-weight: bold; }
.footer { margin-top: 16mm; text-align: right; font-size: 12pt; }
"""


# The document's own terms are the legal names of the kinds and decisions: an official Chinese
# document carries them in Chinese whatever the reader's language (its headings follow it).
KIND_ZH = {
    ApplicationKind.PREPARATION: "社会团体筹备", ApplicationKind.REGISTRATION: "社会团体成立登记",
    ApplicationKind.FILING: "社区社会组织备案", ApplicationKind.ANNUAL_REPORT: "年度检查（年度工作报告）",
    ApplicationKind.EVENT_FILING: "体育赛事活动备案",
    ApplicationKind.HIGH_RISK_PERMIT: "高危险性体育赛事活动许可",
    ApplicationKind.CHANGE: "变更登记",
}
DECISION_ZH = {ApplicationStatus.APPROVED: "准予", ApplicationStatus.REJECTED: "不予准许"}
RESULT_ZH = {InspectionResult.PASS: "合格", InspectionResult.BASIC: "基本合格",
             InspectionResult.FAIL: "不合格"}


class NoResultYet(Conflict):
    code = "no_result_yet"
    default_message = gettext_lazy("The application has not been decided yet.")


def _no_fetching(url: str, timeout: int = 10, ssl_context: Any = None) -> dict[str, Any]:
    raise ValueError(f"the result document loads no resources: {url[:80]}")


def html(app: Application) -> str:
    decided = timezone.localtime(app.decided_at) if app.decided_at else None
    return render_to_string("associations/result.html", {
        "style": STYLE, "app": app, "association": app.association,
        "kind": KIND_ZH[ApplicationKind(app.kind)],
        "decision": DECISION_ZH.get(ApplicationStatus(app.status), ""),
        "result": RESULT_ZH.get(InspectionResult(app.result), "") if app.result else "",
        "day": decided.strftime("%Y-%m-%d") if decided else ""})


def result_pdf(app: Application, *, uncompressed: bool = False) -> bytes:
    """The decision document of an approved or rejected application (``no_result_yet``
    before); ``uncompressed`` for tests that read the embedded fonts."""
    from weasyprint import HTML

    if app.status not in (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED):
        raise NoResultYet()
    return HTML(string=html(app), url_fetcher=_no_fetching).write_pdf(
        uncompressed_pdf=uncompressed)
