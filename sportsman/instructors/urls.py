"""The instructors pages, residents' and the console's (one module per area in views/)."""

app_name = "instructors"

urlpatterns: list = []
