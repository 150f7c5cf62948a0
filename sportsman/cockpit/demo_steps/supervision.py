"""Demo supervision tasks (step 85, after the staff and the domains, before the figures).

Made through the services by the demo administrators, so the inboxes, the audit log and the
histories look as they would after real use; dates are then moved back as if the tasks had been
issued days ago:

- 嘉兴市 → every district: "清理逾期未办结的群众上报问题" (due in 10 days). 南湖区 is at 60 %,
  秀洲区 has submitted with a PDF and waits for the city's review, the others have not started.
- 嘉兴市 → 南湖区, 秀洲区: "提升学校体育场地开放利用率" (deadline three days ago). 秀洲区 was
  accepted; 南湖区 is at 40 % and **overdue** on both cockpits.
- 嘉兴市 → 南湖区: "全民健身设施数据核查" — accepted, the task closed.
- 南湖区 → its towns: "健身路径器材安全排查" (due tomorrow). 新嘉街道 submitted with a photo and
  waits for 南湖区's review; 东栅街道 was returned ("请补充现场照片").
- 南湖区 → 新嘉街道: "组织全民健身日社区活动" (due in 20 days), at 20 %.

Logins: 13800000004 (city), 13800000003 (南湖区), 13800000008 (秀洲区), 13800000002 (新嘉街道),
13800000015 (东栅街道); password ``sportsman-demo``.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.utils import timezone

from sportsman.core.demo_city import DemoCity, demo_step

CITY, NANHU, XIUZHOU = "330400000000", "330402000000", "330411000000"
XINJIA, DONGZHA = "330402009000", "330402013000"
LOGINS = {CITY: "13800000004", NANHU: "13800000003", XIUZHOU: "13800000008",
          XINJIA: "13800000002", DONGZHA: "13800000015"}
PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n")


def _photo() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 320), (222, 236, 228))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 200, 440, 220), fill=(60, 120, 90))
    for x in range(60, 440, 60):
        draw.rectangle((x, 120, x + 12, 200), fill=(90, 90, 90))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


@demo_step("cockpit supervision", order=85)
def supervision_step(city: DemoCity) -> None:
    from sportsman.accounts.models import User
    from sportsman.cockpit import supervision as sv
    from sportsman.cockpit.models import SupervisionTask, TaskAssignment, TaskReport
    from sportsman.core import crypto

    regions = {code: city.regions.get(code) for code in LOGINS}
    people = {code: User.objects.filter(phone_hash=crypto.keyed_hash(phone)).first()
              for code, phone in LOGINS.items()}
    if any(r is None for r in regions.values()) or any(p is None for p in people.values()):
        return
    jx, nanhu, xiuzhou, xinjia, dongzha = (
        regions[c] for c in (CITY, NANHU, XIUZHOU, XINJIA, DONGZHA))
    boss, nanhu_admin, xiuzhou_admin, xinjia_admin, dongzha_admin = (
        people[c] for c in (CITY, NANHU, XIUZHOU, XINJIA, DONGZHA))
    assert jx is not None and nanhu is not None
    today = timezone.localdate()
    now = timezone.now()

    def task(by: Any, issuer: Any, targets: list[Any], title: str, category: str, body: str,
             due_in: int, issued_days_ago: int) -> Any:
        made = sv.issue_task(actor=by, issuer_region_id=issuer.pk, title=title,
                             category=category, body=body,
                             deadline=today + dt.timedelta(days=max(due_in, 0)),
                             target_region_ids=[r.pk for r in targets])
        SupervisionTask.objects.filter(pk=made.pk).update(
            deadline=today + dt.timedelta(days=due_in),
            created_at=now - dt.timedelta(days=issued_days_ago))
        made.refresh_from_db()
        return made

    def part(t: Any, region: Any) -> int:
        return int(t.assignments.get(region=region).pk)

    districts = sorted((r for r in city.regions.values()
                        if r.parent_id == jx.pk and r.level == "district"), key=lambda r: r.code)
    towns = sorted((r for r in city.regions.values()
                    if r.parent_id == nanhu.pk and r.level == "town"), key=lambda r: r.code)

    reports = task(boss, jx, districts, "清理逾期未办结的群众上报问题", "overdue_reports",
                   "各区对本辖区内超过办理时限的群众上报问题逐条清理，说明原因与办结情况，"
                   "并于截止日前提交台账。", due_in=10, issued_days_ago=5)
    sv.report_progress(actor=nanhu_admin, assignment_id=part(reports, nanhu), progress=60,
                       text="已清理 18 条中的 11 条，其余在协调物业与街道办理。")
    sv.submit(actor=xiuzhou_admin, assignment_id=part(reports, xiuzhou),
              text="14 条逾期问题全部办结，台账见附件。",
              files=[sv.Upload("秀洲区逾期问题清理台账.pdf", PDF)])

    schools = task(boss, jx, [nanhu, xiuzhou], "提升学校体育场地开放利用率", "school_grounds",
                   "推动辖区学校体育场地在课余时间、节假日向社会开放，开放率提升至 80% 以上，"
                   "并报送开放学校名单与预约数据。", due_in=-3, issued_days_ago=30)
    sv.report_progress(actor=nanhu_admin, assignment_id=part(schools, nanhu), progress=40,
                       text="已有 9 所学校开放，另有 6 所在完善门禁与保险。")
    sv.submit(actor=xiuzhou_admin, assignment_id=part(schools, xiuzhou),
              text="开放率已达 83%，名单与近一月预约数据见附件。",
              files=[sv.Upload("秀洲区学校场地开放名单.pdf", PDF)])
    sv.review(actor=boss, assignment_id=part(schools, xiuzhou), accept=True,
              comment="材料齐全，同意办结。")

    data = task(boss, jx, [nanhu], "全民健身设施数据核查", "data_quality",
                "核对平台登记的健身设施位置、开放时间与器材数量，与实地一致。",
                due_in=-10, issued_days_ago=40)
    sv.submit(actor=nanhu_admin, assignment_id=part(data, nanhu),
              text="核查 212 处，更正 17 处位置、9 处开放时间。")
    sv.review(actor=boss, assignment_id=part(data, nanhu), accept=True, comment="同意办结。")

    safety = task(nanhu_admin, nanhu, towns, "健身路径器材安全排查", "facility_safety",
                  "对辖区健身路径器材逐一排查，损坏器材张贴停用标识并报修，附现场照片。",
                  due_in=1, issued_days_ago=6)
    sv.submit(actor=xinjia_admin, assignment_id=part(safety, xinjia),
              text="排查 46 处器材，3 处损坏已停用并报修。",
              files=[sv.Upload("花园社区健身路径.jpg", _photo())])
    if dongzha in towns:
        sv.submit(actor=dongzha_admin, assignment_id=part(safety, dongzha),
                  text="已排查完毕，无安全隐患。")
        sv.review(actor=nanhu_admin, assignment_id=part(safety, dongzha), accept=False,
                  comment="请补充现场照片。")

    day = task(nanhu_admin, nanhu, [xinjia], "组织全民健身日社区活动", "events",
               "各街道组织不少于 3 场社区健身活动，报送活动照片与参与人数。",
               due_in=20, issued_days_ago=2)
    sv.report_progress(actor=xinjia_admin, assignment_id=part(day, xinjia), progress=20,
                       text="已确定 3 个社区的活动场地与项目。")

    # The histories happened over the days since each task was issued.
    for made in (reports, schools, data, safety, day):
        issued_at = made.created_at
        for i, report in enumerate(TaskReport.objects.filter(assignment__task=made)
                                   .order_by("id")):
            at = min(now, issued_at + dt.timedelta(days=1 + i, hours=3))
            TaskReport.objects.filter(pk=report.pk).update(created_at=at)
        for a in TaskAssignment.objects.filter(task=made):
            last = a.reports.order_by("-created_at").values_list("created_at", flat=True).first()
            if last is not None:
                TaskAssignment.objects.filter(pk=a.pk).update(reported_at=last)
    city.made["supervision_tasks"] = 5
