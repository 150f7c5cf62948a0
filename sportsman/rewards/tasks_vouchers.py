"""Periodic jobs of voucher campaigns: draw due lotteries and expire lapsed vouchers, every
minute. Tasks take no arguments and re-read what they need; each draw happens once however often
the job runs (the conditional UPDATE on ``drawn_at``)."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from sportsman.core.scheduler import Job, register


@task()
def draw_due_voucher_lotteries() -> int:
    """Draw every lottery campaign whose draw time has come."""
    from sportsman.rewards import vouchers

    return sum(vouchers.draw(campaign_id=pk) for pk in vouchers.due_draw_ids())


@task()
def expire_vouchers() -> int:
    """Issued vouchers past their expiry become expired."""
    from sportsman.rewards import vouchers

    return vouchers.expire_vouchers()


register(Job("rewards.draw_due_voucher_lotteries",
             "sportsman.rewards.tasks_vouchers.draw_due_voucher_lotteries",
             every=timedelta(minutes=1)))
register(Job("rewards.expire_vouchers", "sportsman.rewards.tasks_vouchers.expire_vouchers",
             every=timedelta(minutes=1)))
