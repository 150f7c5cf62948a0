"""Demo data for rewards: points, catalogue and merchants (``points``), voucher campaigns
(``vouchers``). Importing the package registers both steps."""

from sportsman.rewards.demo_steps import points, vouchers  # noqa: F401
