"""The associations pages, residents' and the console's (one module per area in views/)."""

from sportsman.associations.views import board, evaluation, registry, window

app_name = "associations"

urlpatterns = [*window.urlpatterns, *evaluation.urlpatterns, *board.urlpatterns,
               *registry.urlpatterns]
