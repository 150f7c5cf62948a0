"""Voucher reconciliation (对账): what was redeemed where, per merchant, per campaign and per local
day — vouchers, face value (what the campaign pays the merchant) and the customers' spend — as
an xlsx workbook for campaign staff (one campaign, every merchant) and for a merchant (their own
redemptions, every campaign).

Both are read by aggregate queries (one per sheet), never row by row; the venues each merchant
operates (those of the campaign's venues, when it names some) come from two more queries.
A campaign limited to venues says so under the title. Exports are audited.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from sportsman.core import audit
from sportsman.regions.access import Access, Perm
from sportsman.rewards.models import Merchant, Voucher, VoucherCampaign, VoucherStatus


@dataclass(frozen=True)
class Line:
    merchant_id: int
    merchant: str
    campaign_id: int
    campaign: str
    day: dt.date | None  # None on the totals sheet
    vouchers: int
    face_cents: int
    spend_cents: int
    venues: str = ""  # the merchant's venues that count for the campaign, "、"-joined


def _lines(qs: QuerySet[Voucher], *, by_day: bool) -> list[Line]:
    keys = ["merchant_id", "merchant__name", "campaign_id", "campaign__name"]
    rows = qs.filter(status=VoucherStatus.REDEEMED)
    if by_day:
        rows = rows.annotate(day=TruncDate("redeemed_at", tzinfo=timezone.get_current_timezone()))
        keys.append("day")
    found = (rows.values(*keys)
             .annotate(n=Count("id"), face=Sum("face_value_cents"), spend=Sum("spend_cents"))
             .order_by(*keys))
    return [Line(r["merchant_id"], r["merchant__name"], r["campaign_id"], r["campaign__name"],
                 r.get("day"), r["n"], int(r["face"] or 0), int(r["spend"] or 0))
            for r in found]


def _with_venues(found: list[Line]) -> list[Line]:
    """Each line with the venues its merchant operates — only the campaign's, when the campaign
    names venues."""
    operated: dict[int, list[tuple[int, str]]] = {}
    for merchant_id, facility_id, name in (
            Merchant.facilities.through.objects
            .filter(merchant_id__in={x.merchant_id for x in found})
            .values_list("merchant_id", "facility_id", "facility__name")
            .order_by("facility__name", "facility_id")):
        operated.setdefault(merchant_id, []).append((facility_id, name))
    named: dict[int, set[int]] = {}
    for campaign_id, facility_id in (VoucherCampaign.facilities.through.objects
                                     .filter(vouchercampaign_id__in={x.campaign_id for x in found})
                                     .values_list("vouchercampaign_id", "facility_id")):
        named.setdefault(campaign_id, set()).add(facility_id)
    out = []
    for x in found:
        scope = named.get(x.campaign_id)
        venues = [name for pk, name in operated.get(x.merchant_id, [])
                  if scope is None or pk in scope]
        out.append(replace(x, venues="、".join(venues)))
    return out


def lines(qs: QuerySet[Voucher]) -> tuple[list[Line], list[Line]]:
    """(totals per merchant and campaign, the same per local day) of the redeemed vouchers."""
    return _with_venues(_lines(qs, by_day=False)), _with_venues(_lines(qs, by_day=True))


def _workbook(title: str, totals: list[Line], days: list[Line], note: str = "") -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)

    def text(sheet: Any, value: str) -> Any:
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # names typed by people stay text, never a formula
        return cell

    def money(sheet: Any, cents: int) -> Any:
        cell = WriteOnlyCell(sheet, value=cents / 100)
        cell.number_format = "#,##0.00"
        return cell

    head = [_("Merchant"), _("Merchant ID"), _("Campaign"), _("Campaign ID"),
            _("Vouchers redeemed"), _("Face value (yuan)"), _("Spend (yuan)"), _("Venues")]
    summary = book.create_sheet(_("Totals")[:31])
    summary.append([text(summary, title)])
    if note:
        summary.append([text(summary, note)])
    summary.append(head)
    for line in totals:
        summary.append([text(summary, line.merchant), line.merchant_id,
                        text(summary, line.campaign), line.campaign_id, line.vouchers,
                        money(summary, line.face_cents), money(summary, line.spend_cents),
                        text(summary, line.venues)])
    summary.append([text(summary, _("Total")), None, None, None,
                    sum(x.vouchers for x in totals),
                    money(summary, sum(x.face_cents for x in totals)),
                    money(summary, sum(x.spend_cents for x in totals))])
    daily = book.create_sheet(_("By day")[:31])
    daily.append([_("Day"), *head])
    for line in days:
        daily.append([line.day, text(daily, line.merchant), line.merchant_id,
                      text(daily, line.campaign), line.campaign_id, line.vouchers,
                      money(daily, line.face_cents), money(daily, line.spend_cents),
                      text(daily, line.venues)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def campaign_reconciliation(*, access: Access, campaign_id: int,
                            request: Any = None) -> tuple[str, bytes]:
    """(file name, xlsx) of one campaign's redemptions at every merchant. Requires
    ``VOUCHER_MANAGE`` over the campaign's region (else ``campaign_not_found``). Audited
    (``voucher_campaign.reconciliation``, kind view)."""
    from sportsman.core.models import AuditEntry
    from sportsman.rewards.vouchers import get_staff_campaign

    campaign = get_staff_campaign(access, campaign_id)
    totals, days = lines(Voucher.objects.filter(campaign_id=campaign.pk))
    audit.record(actor=access.user, action="voucher_campaign.reconciliation",
                 kind=AuditEntry.Kind.VIEW, obj=campaign, region=campaign.region,
                 request=request)
    title = _("Reconciliation of %(name)s, made %(when)s") % {
        "name": campaign.name, "when": f"{timezone.localtime():%Y-%m-%d %H:%M}"}
    venues = list(campaign.facilities.order_by("name", "id").values_list("name", flat=True))
    note = _("Valid only at: %(venues)s") % {"venues": "、".join(venues)} if venues else ""
    return (f"voucher-reconciliation-{campaign.pk}.xlsx",
            _workbook(title, totals, days, note=note))


def merchant_reconciliation(*, access: Access, request: Any = None) -> tuple[str, bytes]:
    """(file name, xlsx) of the redemptions at every merchant the actor works the counter for
    (approved, owned, ``MERCHANT_OPERATE`` over its region), across campaigns. A merchant sees
    only their own redemptions. Audited like the staff export."""
    from sportsman.core.models import AuditEntry
    from sportsman.rewards.merchants import operable_merchants

    access.require_anywhere(Perm.MERCHANT_OPERATE)
    mine = operable_merchants(access)
    totals, days = lines(Voucher.objects.filter(merchant_id__in=[m.pk for m in mine]))
    audit.record(actor=access.user, action="merchant.reconciliation",
                 kind=AuditEntry.Kind.VIEW, object_type="rewards.merchant",
                 object_id=",".join(str(m.pk) for m in mine)[:64], request=request)
    title = _("Voucher redemptions of %(names)s, made %(when)s") % {
        "names": "、".join(m.name for m in mine) or "—",
        "when": f"{timezone.localtime():%Y-%m-%d %H:%M}"}
    return "voucher-redemptions.xlsx", _workbook(title, totals, days)
