"""Rewards pages: my points, the catalogue and my orders, vouchers, the merchant counter and the staff consoles."""
