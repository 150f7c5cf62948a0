"""Rewards pages (resident, merchant counter, staff console)."""

from sportsman.rewards.views import catalogue, merchants, points, vouchers

app_name = "rewards"

urlpatterns = [*points.urlpatterns, *catalogue.urlpatterns, *merchants.urlpatterns,
               *vouchers.urlpatterns]
