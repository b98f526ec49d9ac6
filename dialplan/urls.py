from django.conf import settings
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from dialplan import views

app_name = "dialplan"
urlpatterns = [
    path("<str:token>/", views.answer, name="answer"),
]
if settings.BENCH_ENDPOINTS:
    urlpatterns.insert(0, path("bench-bare/", csrf_exempt(views.bench_bare), name="bench-bare"))
