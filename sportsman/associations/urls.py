"""The associations pages, residents' and the console's (one module per area in views/)."""

from sportsman.associations.views import board, evaluation

app_name = "associations"

urlpatterns: list = [*evaluation.urlpatterns, *board.urlpatterns]
