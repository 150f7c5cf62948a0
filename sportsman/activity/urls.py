"""Exercise record pages: my data, rankings, my yearly report."""

from sportsman.activity import views

app_name = "activity"

urlpatterns = [*views.urlpatterns]
